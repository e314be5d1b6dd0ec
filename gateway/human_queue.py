"""The human queue as the customer meets it: joining it (with its priority and after-hours
flag), the place-in-line texts, answers while waiting, and the after-hours message taker."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import anyio

from gateway.agents.handoffs import HandoffLog
from gateway.agents.policy import WorkingHours, escalation_note, reason_for
from gateway.conversation_owner import ConversationOwner
from gateway.conversations import ConversationInfo, OutgoingMessage, StateConflict, StoredMessage

ESCALATION_INTRO = "非常抱歉给您带来困扰，我们非常重视您反映的问题，已为您优先转接人工客服。"
# The after-hours message taker: (conversation, customer text) -> reply text, or None to queue normally.
LeaveMessageTaker = Callable[[ConversationInfo, str], Awaitable[str | None]]


class HumanQueue:
    def __init__(
        self,
        owner: ConversationOwner,
        handoffs: HandoffLog,
        *,
        hours: WorkingHours | None = None,
        leave_message: LeaveMessageTaker | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        avg_handle_minutes: float = 4.0,
    ) -> None:
        self.owner = owner
        self.store = owner.store
        self.handoffs = handoffs
        self.hours = hours or WorkingHours.always()
        self.leave_message = leave_message  # None: no after-hours tickets, the customer just waits
        self.clock = clock
        self.avg_handle_minutes = avg_handle_minutes

    async def enqueue_locked(self, conversation_id: str, reason: str, note: str) -> list[StoredMessage]:
        """Hand a bot conversation to the humans (its state lock held); [] if it is not the bot's."""
        try:
            info = await self.owner.change(
                conversation_id, "queue", reason=reason, expect_state="bot", announce=False
            )
        except StateConflict:
            return []  # already queued or held by an agent: nothing changes
        after_hours = not self.hours.is_open(self.clock())
        priority = reason_for(reason).priority
        await anyio.to_thread.run_sync(
            lambda: self.handoffs.open(
                conversation_id, reason=reason, note=note, priority=priority, after_hours=after_hours
            )
        )
        self.owner.announce_change(dataclasses.replace(info, priority=priority))
        text = await self.queue_text(conversation_id, after_hours=after_hours)
        if reason == "escalation":
            text = ESCALATION_INTRO + text
        stored, _ = await self.owner.store_message(
            conversation_id, OutgoingMessage(sender="system", text=text)
        )
        return [stored]

    async def queue_text(
        self, conversation_id: str, *, after_hours: bool = False, again: bool = False
    ) -> str:
        position = max(1, await anyio.to_thread.run_sync(self.store.queue_position, conversation_id))
        wait = max(1, round(position * self.avg_handle_minutes))
        if after_hours:
            return (
                f"现在是非工作时间（人工客服服务时间：{self.hours.label}）。您目前排在第 {position} 位。"
                "您可以直接在这里留言，请写明问题和11位联系电话，我们会为您登记工单，"
                "在工作时间尽快联系您。"
            )
        if again:
            return f"您仍在排队，目前排在第 {position} 位，预计等待约 {wait} 分钟，客服接入后会在这里回复您。"
        return (
            f"已为您转接人工客服，您目前排在第 {position} 位，预计等待约 {wait} 分钟。"
            "请稍候，客服接入后会在这里回复您。"
        )

    async def reply_while_waiting(self, conv: ConversationInfo, text: str) -> list[StoredMessage]:
        """A customer message while people answer: escalation words raise the priority; after hours
        the message may become a ticket; otherwise the customer hears their place in line."""
        if conv.state != "queue":
            return []  # an agent holds it: their reply arrives on its own
        risk = escalation_note(text)
        if risk:
            priority = reason_for("escalation").priority
            await anyio.to_thread.run_sync(
                lambda: self.handoffs.raise_priority(
                    conv.id, reason="escalation", note=risk, priority=priority
                )
            )
            self.owner.announce(await anyio.to_thread.run_sync(self.store.get, conv.id))
        if not self.hours.is_open(self.clock()) and self.leave_message is not None:
            answer = await self.leave_message(conv, text)
            if answer is not None:
                stored, _ = await self.owner.store_message(
                    conv.id, OutgoingMessage(sender="system", text=answer)
                )
                return [stored]
        stored, _ = await self.owner.store_message(
            conv.id, OutgoingMessage(sender="system", text=await self.queue_text(conv.id, again=True))
        )
        return [stored]
