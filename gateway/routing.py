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

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import anyio

from gateway.agents.policy import escalation_note
from gateway.conversation_owner import ConversationOwner
from gateway.conversations import ConversationInfo, OutgoingMessage, StoredMessage
from gateway.coordination import ConversationLocks
from gateway.human_queue import HumanQueue
from gateway.keyed_locks import KeyedLocks
from gateway.payload_labels import RATE_PAYLOAD_RE, is_payload, payload_label
from gateway.rasa_backlog import (
    ACTION_FAILED_TEXT,
    RASA_BACKLOG_TEXT,
    RASA_DOWN_TEXT,
    BacklogAnswering,
    ReplyListener,
    ReplyWriter,
)
from gateway.rasa_backlog import (
    RouteResult as RouteResult,
)
from gateway.rasa_client import RasaClient, RasaUnavailable
from gateway.rasa_reply import translate_rasa_messages
from kefu.message_metadata import with_message_id

log = logging.getLogger(__name__)

# Recognised without the bot, so a customer reaches a human even while Rasa is down.
HUMAN_REQUEST_RE = re.compile(r"^\s*/request_human\b|转人工|人工客服|找人工|真人客服")
TicketRater = Callable[[ConversationInfo, str], Awaitable[str]]


class ConversationRouter(BacklogAnswering):
    def __init__(
        self,
        owner: ConversationOwner,
        rasa: RasaClient,
        human_queue: HumanQueue,
        *,
        rate_ticket: TicketRater | None = None,
        reply_listeners: Sequence[ReplyListener] = (),
        reply_writers: Sequence[ReplyWriter] = (),
        locks: ConversationLocks | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.owner = owner
        self.store = owner.store
        self.hub = owner.hub
        self.rasa = rasa
        self.human_queue = human_queue
        self.rate_ticket = rate_ticket  # None: ratings are not recorded (no ticket service)
        self.reply_listeners = list(reply_listeners)  # metrics
        self.reply_writers = list(reply_writers)  # the reports' bot turns, stored with the reply
        self.clock = clock
        # In memory: locks exist only while held or awaited; in a cluster, shared by every gateway.
        self._locks = locks or KeyedLocks()
        # Messages Rasa never received (it was down), per conversation, oldest first.
        self._backlog: dict[str, list[tuple[StoredMessage, dict[str, Any] | None]]] = {}

    def lock(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Serialises the customer messages of one conversation (held while the bot thinks)."""
        return self._locks.hold(conversation_id)

    def state_lock(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Held briefly by every change of who answers, and while a bot reply is checked and stored."""
        return self.owner.state_lock(conversation_id)

    async def get(self, conversation_id: str) -> ConversationInfo:
        return await anyio.to_thread.run_sync(self.store.get, conversation_id)

    async def store_message(
        self, conversation_id: str, message: OutgoingMessage, *, client_msg_id: str | None = None
    ) -> tuple[StoredMessage, bool]:
        """Store a message and announce it to the conversation's and the console's subscribers."""
        return await self.owner.store_message(conversation_id, message, client_msg_id=client_msg_id)

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
            custom: dict[str, Any] = {}
            if is_payload(text):  # a button: show its label, not the payload (a read of its own)
                buttons = await anyio.to_thread.run_sync(self.store.last_buttons, conversation_id)
                label = payload_label(text, buttons)
                if label:
                    custom["display"] = label
            conv, customer, new = await self.owner.store_customer(
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
                return RouteResult(
                    await self.human_queue.reply_while_waiting(conv, text), conv.state, customer
                )
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
            raw = await self.rasa.send(conv.id, text, with_message_id(metadata, customer.seq))
        except RasaUnavailable as exc:
            log.warning("Rasa unavailable for conversation %s: %s", conv.id[:8], exc)
            if risk or HUMAN_REQUEST_RE.search(text):
                async with self.state_lock(conv.id):
                    out = await self.human_queue.enqueue_locked(
                        conv.id, "escalation" if risk else "request_human", risk or "智能助手暂不可用"
                    )
                return RouteResult(out, "queue" if out else (await self.get(conv.id)).state, customer)
            if not exc.received:
                return await self._keep_for_later(conv, text, customer, metadata)
            return RouteResult([await self._apology(conv.id, RASA_DOWN_TEXT)], "bot", customer)
        reply = translate_rasa_messages(raw)
        await self._tell_listeners(conv, reply)
        if not reply.messages and reply.handoff is None:
            await self._record_reply(conv, reply)
            # Rasa answers [] when a custom action failed or timed out: never leave silence.
            log.warning("Rasa gave no answer for conversation %s (action server down or slow?)", conv.id[:8])
            if risk:
                async with self.state_lock(conv.id):
                    out = await self.human_queue.enqueue_locked(conv.id, "escalation", risk)
                return RouteResult(out, "queue" if out else (await self.get(conv.id)).state, customer)
            return RouteResult([await self._apology(conv.id, ACTION_FAILED_TEXT)], "bot", customer)
        async with self.state_lock(conv.id):
            state, out = await self.owner.store_while(
                conv.id, "bot", reply.messages, also=self._reply_rows(conv, reply)
            )
            if state != "bot":
                # An agent or the queue took the conversation while Rasa was thinking.
                log.info("dropping %d in-flight bot message(s) for %s", len(reply.messages), conv.id[:8])
                return RouteResult([], state, customer)
            if reply.handoff is None and risk is None:
                return RouteResult(out, "bot", customer)
            handoff = reply.handoff or {}
            reason = "escalation" if risk else str(handoff.get("reason") or "request_human")
            note = "；".join(n for n in (risk, str(handoff.get("note") or "")) if n)
            out.extend(await self.human_queue.enqueue_locked(conv.id, reason, note))
            return RouteResult(out, "queue", customer)
