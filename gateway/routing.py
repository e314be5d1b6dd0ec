"""Who answers a conversation: the bot, the human queue, or the agent holding it.

Every customer message from every channel goes through :class:`ConversationRouter`,
so no channel can bypass a handoff. Messages of one conversation are processed one
at a time; after Rasa answers, the state is read again so a reply that was in
flight when an agent took over is dropped instead of reaching the customer. The
re-check and the storing of the bot's reply happen under the conversation's *state
lock*, which every change of who answers (claim, release, reassign) also takes, so
no bot message can slip in after an agent took over.

A conversation goes to the queue when the bot sends a ``handoff`` payload (the customer
asked, two fallbacks, a complaint at risk of escalation) and also when the gateway's own
check finds escalation words in a customer message. Outside working hours the customer
in the queue may leave a message, which becomes a ticket.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio

from gateway.agents.policy import WorkingHours, escalation_note, reason_for
from gateway.conversations import (
    ConversationInfo,
    ConversationStore,
    OutgoingMessage,
    StateConflict,
    StoredMessage,
)
from gateway.hub import CONSOLE_TOPIC, Hub, conversation_topic
from gateway.payload_labels import RATE_PAYLOAD_RE, is_payload, payload_label
from gateway.rasa_client import RasaClient, RasaUnavailable

if TYPE_CHECKING:
    from gateway.agents.handoffs import HandoffLog

log = logging.getLogger(__name__)

RASA_DOWN_TEXT = "抱歉，智能助手暂时无法回复。您可以稍后再试，或点击下方按钮转人工客服。"
HUMAN_BUTTON = {"title": "转人工客服", "payload": "/request_human"}
# Recognised without the bot, so a customer reaches a human even while Rasa is down.
HUMAN_REQUEST_RE = re.compile(r"^\s*/request_human\b|转人工|人工客服|找人工|真人客服")
ESCALATION_INTRO = "非常抱歉给您带来困扰，我们非常重视您反映的问题，已为您优先转接人工客服。"
# The after-hours message taker: (conversation, customer text) -> reply text, or None to queue normally.
LeaveMessageTaker = Callable[[ConversationInfo, str], Awaitable[str | None]]
TicketRater = Callable[[ConversationInfo, str], Awaitable[str]]


@dataclass
class RouteResult:
    """What the customer gets back for one message."""

    messages: list[StoredMessage]
    handled_by: str
    customer_message: StoredMessage | None = None
    duplicate: bool = False


@dataclass
class BotReply:
    """Rasa's answer, translated: the messages to show and any handoff request."""

    messages: list[OutgoingMessage] = field(default_factory=list)
    handoff: dict[str, Any] | None = None


def translate_rasa_messages(raw: list[dict[str, Any]]) -> BotReply:
    """Turn Rasa REST output into gateway messages.

    Actions send citations, CSAT prompts and handoff requests as ``custom`` JSON
    (see the README); citations attach to the bot text they belong to.
    """
    reply = BotReply()
    for item in raw:
        text = item.get("text") or ""
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in item.get("buttons") or []
            if isinstance(b, dict)
        ]
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else None
        if text or buttons:
            reply.messages.append(OutgoingMessage(sender="bot", text=text, buttons=buttons))
        if custom:
            custom = dict(custom)
            handoff = custom.pop("handoff", None)
            if isinstance(handoff, dict):
                reply.handoff = handoff
            citations = custom.pop("citations", None)
            if reply.messages and (citations or custom):
                last = reply.messages[-1]
                merged_custom = {**last.custom, **custom}
                merged_citations = list(last.citations) + [
                    {"section": str(c.get("section", "")), "title": str(c.get("title", ""))}
                    for c in citations or []
                    if isinstance(c, dict)
                ]
                reply.messages[-1] = OutgoingMessage(
                    sender="bot",
                    text=last.text,
                    buttons=last.buttons,
                    citations=merged_citations,
                    custom=merged_custom,
                )
    return reply


class ConversationRouter:
    def __init__(
        self,
        store: ConversationStore,
        rasa: RasaClient,
        hub: Hub,
        *,
        avg_handle_minutes: float = 4.0,
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.hub = hub
        self.avg_handle_minutes = avg_handle_minutes
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._state_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Set by gateway.console_setup at start-up; without them the queue still works
        # (every hour is a working hour, no priorities, no after-hours tickets).
        self.handoffs: HandoffLog | None = None
        self.hours: WorkingHours = WorkingHours.always()
        self.leave_message: LeaveMessageTaker | None = None
        self.rate_ticket: TicketRater | None = None  # set by gateway.tickets_setup
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def lock(self, conversation_id: str) -> asyncio.Lock:
        """Serialises the customer messages of one conversation (held while the bot thinks)."""
        return self._locks[conversation_id]

    def state_lock(self, conversation_id: str) -> asyncio.Lock:
        """Held briefly by every change of who answers, and while a bot reply is checked and stored."""
        return self._state_locks[conversation_id]

    async def get(self, conversation_id: str) -> ConversationInfo:
        return await anyio.to_thread.run_sync(self.store.get, conversation_id)

    async def store_message(
        self, conversation_id: str, message: OutgoingMessage, *, client_msg_id: str | None = None
    ) -> tuple[StoredMessage, bool]:
        """Store a message and announce it to the conversation's and the console's subscribers."""
        stored, new = await anyio.to_thread.run_sync(
            lambda: self.store.append(conversation_id, message, client_msg_id=client_msg_id)
        )
        if new:
            event = {"type": "message", "conversation_id": conversation_id, "message": stored.to_dict()}
            self.hub.publish(conversation_topic(conversation_id), event)
            self.hub.publish(CONSOLE_TOPIC, event)
        return stored, new

    async def handle_customer_message(
        self,
        conversation_id: str,
        text: str,
        *,
        client_msg_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> RouteResult:
        """Store the customer's message and get it answered by whoever answers now."""
        async with self.lock(conversation_id):
            conv = await self.get(conversation_id)
            custom: dict[str, Any] = {}
            if is_payload(text):
                buttons = await anyio.to_thread.run_sync(self.store.last_buttons, conversation_id)
                label = payload_label(text, buttons)
                if label:
                    custom["display"] = label
            customer, new = await self.store_message(
                conversation_id,
                OutgoingMessage(sender="customer", text=text, custom=custom),
                client_msg_id=client_msg_id,
            )
            if not new:
                # A retried delivery: answer with what followed it the first time.
                later = await anyio.to_thread.run_sync(
                    lambda: self.store.messages_after(conversation_id, customer.seq)
                )
                replies = [m for m in later if m.sender != "customer"]
                return RouteResult(replies, conv.state, customer, duplicate=True)
            # The gateway records a rating itself (whoever answers), so it never reaches the bot as text.
            rating = RATE_PAYLOAD_RE.match(text)
            if rating and self.rate_ticket is not None:
                answer = await self.rate_ticket(conv, rating.group(1))
                stored, _ = await self.store_message(
                    conversation_id, OutgoingMessage(sender="system", text=answer)
                )
                return RouteResult([stored], conv.state, customer)
            if conv.state != "bot":
                return RouteResult(await self._queued_reply(conv, text), conv.state, customer)
            return await self._ask_bot(conv, text, customer, metadata)

    async def _ask_bot(
        self,
        conv: ConversationInfo,
        text: str,
        customer: StoredMessage,
        metadata: dict[str, Any] | None,
    ) -> RouteResult:
        risk = escalation_note(text)
        try:
            raw = await self.rasa.send(conv.id, text, metadata)
        except RasaUnavailable as exc:
            log.warning("Rasa unavailable for conversation %s: %s", conv.id[:8], exc)
            if risk or HUMAN_REQUEST_RE.search(text):
                async with self.state_lock(conv.id):
                    out = await self._enqueue_locked(
                        conv.id, "escalation" if risk else "request_human", risk or "智能助手暂不可用"
                    )
                return RouteResult(out, "queue" if out else (await self.get(conv.id)).state, customer)
            stored, _ = await self.store_message(
                conv.id, OutgoingMessage(sender="system", text=RASA_DOWN_TEXT, buttons=[HUMAN_BUTTON])
            )
            return RouteResult([stored], "bot", customer)
        reply = translate_rasa_messages(raw)
        async with self.state_lock(conv.id):
            current = await self.get(conv.id)
            if current.state != "bot":
                # An agent or the queue took the conversation while Rasa was thinking.
                log.info("dropping %d in-flight bot message(s) for %s", len(reply.messages), conv.id[:8])
                return RouteResult([], current.state, customer)
            out = [(await self.store_message(conv.id, m))[0] for m in reply.messages]
            if reply.handoff is None and risk is None:
                return RouteResult(out, "bot", customer)
            handoff = reply.handoff or {}
            reason = "escalation" if risk else str(handoff.get("reason") or "request_human")
            note = "；".join(n for n in (risk, str(handoff.get("note") or "")) if n)
            out.extend(await self._enqueue_locked(conv.id, reason, note))
            return RouteResult(out, "queue", customer)

    async def _enqueue_locked(self, conversation_id: str, reason: str, note: str) -> list[StoredMessage]:
        try:
            info = await anyio.to_thread.run_sync(
                lambda: self.store.set_state(conversation_id, "queue", reason=reason, expect_state="bot")
            )
        except StateConflict:
            return []  # already queued or held by an agent: nothing changes
        after_hours = not self.hours.is_open(self.clock())
        if self.handoffs is not None:
            handoffs = self.handoffs
            await anyio.to_thread.run_sync(
                lambda: handoffs.open(
                    conversation_id,
                    reason=reason,
                    note=note,
                    priority=reason_for(reason).priority,
                    after_hours=after_hours,
                )
            )
        self.hub.publish(
            CONSOLE_TOPIC,
            {"type": "queue", "conversation_id": info.id, "state": info.state, "reason": reason},
        )
        self.hub.publish(conversation_topic(conversation_id), {"type": "state", "handled_by": "queue"})
        text = await self._queue_text(conversation_id, after_hours=after_hours)
        if reason == "escalation":
            text = ESCALATION_INTRO + text
        stored, _ = await self.store_message(conversation_id, OutgoingMessage(sender="system", text=text))
        return [stored]

    async def _queue_text(
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

    async def _queued_reply(self, conv: ConversationInfo, text: str) -> list[StoredMessage]:
        if conv.state != "queue":
            return []  # an agent holds it: their reply arrives on its own
        risk = escalation_note(text)
        if risk and self.handoffs is not None:
            handoffs = self.handoffs
            priority = reason_for("escalation").priority
            await anyio.to_thread.run_sync(
                lambda: handoffs.raise_priority(conv.id, reason="escalation", note=risk, priority=priority)
            )
            self.hub.publish(
                CONSOLE_TOPIC,
                {"type": "queue", "conversation_id": conv.id, "state": "queue", "reason": "escalation"},
            )
        if not self.hours.is_open(self.clock()) and self.leave_message is not None:
            answer = await self.leave_message(conv, text)
            if answer is not None:
                stored, _ = await self.store_message(conv.id, OutgoingMessage(sender="system", text=answer))
                return [stored]
        stored, _ = await self.store_message(
            conv.id, OutgoingMessage(sender="system", text=await self._queue_text(conv.id, again=True))
        )
        return [stored]
