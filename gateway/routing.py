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

When the bot cannot answer the customer is never left in silence: Rasa down, slow, or
answering garbage, or the action server failing (Rasa then answers with nothing) all
give an apology with a 转人工 button within the configured timeouts. A message Rasa
certainly never received (it was down) is kept in a backlog and answered, in order,
as soon as Rasa is back (see :meth:`ConversationRouter.answer_backlog`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from gateway.keyed_locks import KeyedLocks
from gateway.payload_labels import RATE_PAYLOAD_RE, is_payload, payload_label
from gateway.rasa_client import RasaClient, RasaUnavailable
from gateway.rasa_reply import BotReply, translate_rasa_messages

if TYPE_CHECKING:
    from gateway.agents.handoffs import HandoffLog

log = logging.getLogger(__name__)

RASA_DOWN_TEXT = "抱歉，智能助手暂时无法回复。您可以稍后再试，或点击下方按钮转人工客服。"
# Rasa never got the message: it is kept and answered when the assistant is back.
RASA_BACKLOG_TEXT = (
    "抱歉，智能助手暂时无法回复。您的消息已保存，恢复后会马上回复您；如需立即帮助，请点击下方按钮转人工客服。"
)
# Rasa got the message but an action failed or timed out: something may have been done.
ACTION_FAILED_TEXT = (
    "抱歉，系统刚才没能完成处理。如果您正在办理业务，请先查询办理结果，不要重复提交；"
    "也可以稍后再试，或点击下方按钮转人工客服。"
)
BACKLOG_PER_CONVERSATION = 20
BACKLOG_CONVERSATIONS = 2000
UNANSWERED_WINDOW = timedelta(minutes=10)  # older unanswered messages are for a person, not a late bot
HUMAN_BUTTON = {"title": "转人工客服", "payload": "/request_human"}
# Recognised without the bot, so a customer reaches a human even while Rasa is down.
HUMAN_REQUEST_RE = re.compile(r"^\s*/request_human\b|转人工|人工客服|找人工|真人客服")
ESCALATION_INTRO = "非常抱歉给您带来困扰，我们非常重视您反映的问题，已为您优先转接人工客服。"
# The after-hours message taker: (conversation, customer text) -> reply text, or None to queue normally.
LeaveMessageTaker = Callable[[ConversationInfo, str], Awaitable[str | None]]
TicketRater = Callable[[ConversationInfo, str], Awaitable[str]]
# Told of every answer Rasa gave (reports' bot turns, metrics); must not raise.
ReplyListener = Callable[[ConversationInfo, BotReply], Awaitable[None]]


@dataclass
class RouteResult:
    """What the customer gets back for one message."""

    messages: list[StoredMessage]
    handled_by: str
    customer_message: StoredMessage | None = None
    duplicate: bool = False


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
        # Locks exist only while held or awaited (memory follows the active conversations).
        self._locks = KeyedLocks()
        self._state_locks = KeyedLocks()
        # Messages Rasa never received (it was down), per conversation, oldest first.
        self._backlog: dict[str, list[tuple[StoredMessage, dict[str, Any] | None]]] = {}
        # Set by gateway.console_setup at start-up; without them the queue still works
        # (every hour is a working hour, no priorities, no after-hours tickets).
        self.handoffs: HandoffLog | None = None
        self.hours: WorkingHours = WorkingHours.always()
        self.leave_message: LeaveMessageTaker | None = None
        self.rate_ticket: TicketRater | None = None  # set by gateway.tickets_setup
        self.reply_listeners: list[ReplyListener] = []  # gateway.reports.setup, gateway.metrics_setup
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def lock(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Serialises the customer messages of one conversation (held while the bot thinks)."""
        return self._locks.hold(conversation_id)

    def state_lock(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Held briefly by every change of who answers, and while a bot reply is checked and stored."""
        return self._state_locks.hold(conversation_id)

    @property
    def backlog_size(self) -> int:
        return sum(len(v) for v in self._backlog.values())

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
                if conv.state == "bot" and conversation_id in self._backlog:
                    await self._answer_backlog_locked(conv)  # kept ones first, if Rasa is back
                later = await anyio.to_thread.run_sync(
                    lambda: self.store.messages_after(conversation_id, customer.seq)
                )
                replies = [m for m in later if m.sender != "customer"]
                if later or conv.state != "bot":
                    return RouteResult(replies, conv.state, customer, duplicate=True)
                if conversation_id in self._backlog:  # kept, Rasa still away
                    apology = await self._apology(conversation_id, RASA_BACKLOG_TEXT)
                    return RouteResult([apology], "bot", customer, duplicate=True)
                # Stored, then nothing: the gateway died before the answer. Answer it now, once.
                log.info("answering a retried message that was never answered in %s", conversation_id[:8])
                result = await self._ask_bot(conv, text, customer, metadata)
                return RouteResult(result.messages, result.handled_by, customer, duplicate=True)
            # The gateway records a rating itself (whoever answers), so it never reaches the bot as text.
            rating = RATE_PAYLOAD_RE.match(text)
            if rating and self.rate_ticket is not None:
                answer = await self.rate_ticket(conv, rating.group(1))
                stored, _ = await self.store_message(
                    conversation_id, OutgoingMessage(sender="system", text=answer)
                )
                return RouteResult([stored], conv.state, customer)
            if conv.state != "bot":
                self._backlog.pop(conversation_id, None)  # people answer now; they see the history
                return RouteResult(await self._queued_reply(conv, text), conv.state, customer)
            if conversation_id in self._backlog and not await self._answer_backlog_locked(conv):
                if not HUMAN_REQUEST_RE.search(text) and not escalation_note(text):
                    # Rasa is still down: this message waits behind the earlier ones.
                    return await self._keep_for_later(conv, text, customer, metadata)
                # Asking for a person never waits for the bot; the agent reads the kept ones.
                self._backlog.pop(conversation_id, None)
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
            if not exc.received:
                return await self._keep_for_later(conv, text, customer, metadata)
            return RouteResult([await self._apology(conv.id, RASA_DOWN_TEXT)], "bot", customer)
        reply = translate_rasa_messages(raw)
        await self._tell_listeners(conv, reply)
        if not reply.messages and reply.handoff is None:
            # Rasa answers [] when a custom action failed or timed out: never leave silence.
            log.warning("Rasa gave no answer for conversation %s (action server down or slow?)", conv.id[:8])
            if risk:
                async with self.state_lock(conv.id):
                    out = await self._enqueue_locked(conv.id, "escalation", risk)
                return RouteResult(out, "queue" if out else (await self.get(conv.id)).state, customer)
            return RouteResult([await self._apology(conv.id, ACTION_FAILED_TEXT)], "bot", customer)
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

    async def _tell_listeners(self, conv: ConversationInfo, reply: BotReply) -> None:
        for listener in self.reply_listeners:
            try:
                await listener(conv, reply)
            except Exception:  # a report or a metric never costs the customer an answer
                log.exception("reply listener failed for %s", conv.id[:8])

    async def _apology(self, conversation_id: str, text: str) -> StoredMessage:
        stored, _ = await self.store_message(
            conversation_id, OutgoingMessage(sender="system", text=text, buttons=[HUMAN_BUTTON])
        )
        return stored

    async def _keep_for_later(
        self, conv: ConversationInfo, text: str, customer: StoredMessage, metadata: dict[str, Any] | None
    ) -> RouteResult:
        """Rasa never got this message: keep it for when Rasa is back (or hand over if too many)."""
        pending = self._backlog.setdefault(conv.id, [])
        if len(pending) >= BACKLOG_PER_CONVERSATION or len(self._backlog) > BACKLOG_CONVERSATIONS:
            self._backlog.pop(conv.id, None)
            async with self.state_lock(conv.id):
                out = await self._enqueue_locked(conv.id, "request_human", "智能助手暂不可用")
            if out:
                return RouteResult(out, "queue", customer)
            return RouteResult([await self._apology(conv.id, RASA_DOWN_TEXT)], "bot", customer)
        pending.append((customer, metadata))
        return RouteResult([await self._apology(conv.id, RASA_BACKLOG_TEXT)], "bot", customer)

    async def answer_backlog(self) -> int:
        """Answer, in order, the kept messages of every conversation; returns how many were answered.

        Called by the gateway's ``rasa_backlog`` job once Rasa answers its status check again.
        """
        answered = 0
        for conversation_id in list(self._backlog):
            async with self.lock(conversation_id):
                if conversation_id not in self._backlog:
                    continue  # a new message of the customer answered it meanwhile
                try:
                    conv = await self.get(conversation_id)
                except Exception:  # expired or gone: nobody to answer
                    self._backlog.pop(conversation_id, None)
                    continue
                before = len(self._backlog[conversation_id])
                done = await self._answer_backlog_locked(conv)
                answered += before - len(self._backlog.get(conversation_id, ()))
                if not done:
                    break  # Rasa went away again; try later
        return answered

    async def _answer_backlog_locked(self, conv: ConversationInfo) -> bool:
        """Send the kept messages of ``conv`` (its lock held); False if Rasa is still unreachable."""
        pending = self._backlog.get(conv.id, [])
        if conv.state != "bot":
            self._backlog.pop(conv.id, None)
            return True
        while pending:
            customer, metadata = pending[0]
            try:
                raw = await self.rasa.send(conv.id, customer.text, metadata)
            except RasaUnavailable as exc:
                if not exc.received:
                    return False
                raw = []  # it reached Rasa this time: apologise below, never send it again
            pending.pop(0)
            reply = translate_rasa_messages(raw)
            await self._tell_listeners(conv, reply)
            async with self.state_lock(conv.id):
                current = await self.get(conv.id)
                if current.state != "bot":
                    self._backlog.pop(conv.id, None)
                    return True
                if not reply.messages and reply.handoff is None:
                    await self._apology(conv.id, ACTION_FAILED_TEXT)
                for message in reply.messages:
                    await self.store_message(conv.id, message)
                if reply.handoff is not None:
                    handoff = reply.handoff
                    await self._enqueue_locked(
                        conv.id, str(handoff.get("reason") or "request_human"), str(handoff.get("note") or "")
                    )
                    self._backlog.pop(conv.id, None)
                    return True
        self._backlog.pop(conv.id, None)
        return True

    async def keep_unanswered(self, window: timedelta = UNANSWERED_WINDOW) -> int:
        """Keep for answering the customer messages stored but never answered (a gateway crash)."""
        since = self.clock() - window
        found = await anyio.to_thread.run_sync(self.store.unanswered, since)
        for conv, customer in found:
            pending = self._backlog.setdefault(conv.id, [])
            if all(kept.seq != customer.seq for kept, _ in pending):
                pending.append((customer, None))
        if found:
            log.info("answering %d message(s) left unanswered by the previous gateway", len(found))
        return len(found)

    async def run_backlog(self, interval: float = 2.0) -> None:
        """The ``rasa_backlog`` job: answer kept messages once Rasa answers again (and, at start,
        the messages a crashed gateway stored but never answered)."""
        await self.keep_unanswered()
        while True:
            await asyncio.sleep(interval)
            if self._backlog and await self.rasa.healthy():
                answered = await self.answer_backlog()
                if answered:
                    log.info("answered %d message(s) kept while Rasa was down", answered)

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
