"""Answers the bot owes: messages Rasa never received (it was down) are kept and answered, in
order, when Rasa is back, and messages a crashed gateway stored but never answered are answered
at start. Also the apologies the customer gets instead of silence.

:class:`BacklogAnswering` is the part of :class:`gateway.routing.ConversationRouter` that does it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio

from gateway.conversation_owner import ConversationOwner
from gateway.conversations import ConversationInfo, OutgoingMessage, StoredMessage
from gateway.coordination import ConversationLocks
from gateway.human_queue import HumanQueue
from gateway.message_rows import RowWriter
from gateway.rasa_client import RasaClient, RasaUnavailable
from gateway.rasa_reply import BotReply, translate_rasa_messages
from kefu.message_metadata import with_message_id

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
# Told of every answer Rasa gave (metrics); must not raise.
ReplyListener = Callable[[ConversationInfo, BotReply], Awaitable[None]]
# What to write about every answer Rasa gave (the reports' bot turn), in the transaction that stores
# the reply (or one of its own when nothing is stored).
ReplyWriter = Callable[[ConversationInfo, BotReply], RowWriter]


@dataclass
class RouteResult:
    """What the customer gets back for one message."""

    messages: list[StoredMessage]
    handled_by: str
    customer_message: StoredMessage | None = None
    duplicate: bool = False


class BacklogAnswering:
    owner: ConversationOwner
    rasa: RasaClient
    human_queue: HumanQueue
    clock: Callable[[], datetime]
    _locks: ConversationLocks
    _backlog: dict[str, list[tuple[StoredMessage, dict[str, Any] | None]]]
    reply_listeners: list[ReplyListener]
    reply_writers: list[ReplyWriter]

    async def _tell_listeners(self, conv: ConversationInfo, reply: BotReply) -> None:
        for listener in self.reply_listeners:
            try:
                await listener(conv, reply)
            except Exception:  # a report or a metric never costs the customer an answer
                log.exception("reply listener failed for %s", conv.id[:8])

    def _reply_rows(self, conv: ConversationInfo, reply: BotReply) -> list[RowWriter]:
        return [writer(conv, reply) for writer in self.reply_writers]

    async def _record_reply(self, conv: ConversationInfo, reply: BotReply) -> None:
        """Write the rows about an answer whose reply is not stored with them (nothing to store)."""
        rows = self._reply_rows(conv, reply)
        if not rows:
            return
        try:
            await anyio.to_thread.run_sync(self.owner.store.write, rows)
        except Exception:  # a report never costs the customer an answer
            log.exception("recording the bot turn failed for %s", conv.id[:8])

    @property
    def backlog_size(self) -> int:
        return sum(len(v) for v in self._backlog.values())

    async def _get(self, conversation_id: str) -> ConversationInfo:
        return await anyio.to_thread.run_sync(self.owner.store.get, conversation_id)

    async def _apology(self, conversation_id: str, text: str) -> StoredMessage:
        stored, _ = await self.owner.store_message(
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
            async with self.owner.state_lock(conv.id):
                out = await self.human_queue.enqueue_locked(conv.id, "request_human", "智能助手暂不可用")
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
            async with self._locks.hold(conversation_id):
                if conversation_id not in self._backlog:
                    continue  # a new message of the customer answered it meanwhile
                try:
                    conv = await self._get(conversation_id)
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
                raw = await self.rasa.send(conv.id, customer.text, with_message_id(metadata, customer.seq))
            except RasaUnavailable as exc:
                if not exc.received:
                    return False
                raw = []  # it reached Rasa this time: apologise below, never send it again
            pending.pop(0)
            reply = translate_rasa_messages(raw)
            await self._tell_listeners(conv, reply)
            async with self.owner.state_lock(conv.id):
                if not reply.messages and reply.handoff is None:
                    await self._record_reply(conv, reply)
                    current = await self._get(conv.id)
                    if current.state != "bot":
                        self._backlog.pop(conv.id, None)
                        return True
                    await self._apology(conv.id, ACTION_FAILED_TEXT)
                    continue
                # The whole reply in one transaction, only while the bot still answers.
                state, _ = await self.owner.store_while(
                    conv.id, "bot", reply.messages, also=self._reply_rows(conv, reply)
                )
                if state != "bot":
                    self._backlog.pop(conv.id, None)
                    return True
                if reply.handoff is not None:
                    handoff = reply.handoff
                    await self.human_queue.enqueue_locked(
                        conv.id, str(handoff.get("reason") or "request_human"), str(handoff.get("note") or "")
                    )
                    self._backlog.pop(conv.id, None)
                    return True
        self._backlog.pop(conv.id, None)
        return True

    async def keep_unanswered(self, window: timedelta = UNANSWERED_WINDOW) -> int:
        """Keep for answering the customer messages stored but never answered (a gateway crash)."""
        since = self.clock() - window
        found = await anyio.to_thread.run_sync(self.owner.store.unanswered, since)
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
