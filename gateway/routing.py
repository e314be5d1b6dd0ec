"""Who answers a conversation: the bot, the human queue, or the agent holding it.

Every customer message from every channel goes through :class:`ConversationRouter`,
so no channel can bypass a handoff. Messages of one conversation are processed one
at a time; after Rasa answers, the state is read again so a reply that was in
flight when an agent took over is dropped instead of reaching the customer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import anyio

from gateway.conversations import ConversationInfo, ConversationStore, OutgoingMessage, StoredMessage
from gateway.hub import CONSOLE_TOPIC, Hub, conversation_topic
from gateway.rasa_client import RasaClient, RasaUnavailable

log = logging.getLogger(__name__)

RASA_DOWN_TEXT = "抱歉，智能助手暂时无法回复。您可以稍后再试，或点击下方按钮转人工客服。"
HUMAN_BUTTON = {"title": "转人工客服", "payload": "/request_human"}


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

    def lock(self, conversation_id: str) -> asyncio.Lock:
        return self._locks[conversation_id]

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
            customer, new = await self.store_message(
                conversation_id, OutgoingMessage(sender="customer", text=text), client_msg_id=client_msg_id
            )
            if not new:
                # A retried delivery: answer with what followed it the first time.
                later = await anyio.to_thread.run_sync(
                    lambda: self.store.messages_after(conversation_id, customer.seq)
                )
                replies = [m for m in later if m.sender != "customer"]
                return RouteResult(replies, conv.state, customer, duplicate=True)
            if conv.state != "bot":
                return RouteResult(await self._queued_reply(conv), conv.state, customer)
            return await self._ask_bot(conv, text, customer, metadata)

    async def _ask_bot(
        self,
        conv: ConversationInfo,
        text: str,
        customer: StoredMessage,
        metadata: dict[str, Any] | None,
    ) -> RouteResult:
        try:
            raw = await self.rasa.send(conv.id, text, metadata)
        except RasaUnavailable as exc:
            log.warning("Rasa unavailable for conversation %s: %s", conv.id[:8], exc)
            stored, _ = await self.store_message(
                conv.id, OutgoingMessage(sender="system", text=RASA_DOWN_TEXT, buttons=[HUMAN_BUTTON])
            )
            return RouteResult([stored], "bot", customer)
        reply = translate_rasa_messages(raw)
        current = await self.get(conv.id)
        if current.state != "bot":
            # An agent or the queue took the conversation while Rasa was thinking.
            log.info("dropping %d in-flight bot message(s) for %s", len(reply.messages), conv.id[:8])
            return RouteResult([], current.state, customer)
        out = [(await self.store_message(conv.id, m))[0] for m in reply.messages]
        if reply.handoff is not None:
            out.extend(await self.enqueue(conv.id, str(reply.handoff.get("reason") or "request_human")))
            return RouteResult(out, "queue", customer)
        return RouteResult(out, "bot", customer)

    async def enqueue(self, conversation_id: str, reason: str) -> list[StoredMessage]:
        """Move the conversation to the human queue and tell the customer where they stand."""
        info = await anyio.to_thread.run_sync(
            lambda: self.store.set_state(conversation_id, "queue", reason=reason)
        )
        self.hub.publish(CONSOLE_TOPIC, {"type": "queue", "conversation_id": info.id, "state": info.state})
        stored, _ = await self.store_message(
            conversation_id, OutgoingMessage(sender="system", text=await self._queue_text(conversation_id))
        )
        return [stored]

    async def _queue_text(self, conversation_id: str) -> str:
        position = await anyio.to_thread.run_sync(self.store.queue_position, conversation_id)
        wait = max(1, round(position * self.avg_handle_minutes))
        return (
            f"已为您转接人工客服，您目前排在第 {position} 位，预计等待约 {wait} 分钟。"
            "请稍候，客服接入后会在这里回复您。"
        )

    async def _queued_reply(self, conv: ConversationInfo) -> list[StoredMessage]:
        if conv.state == "queue":
            stored, _ = await self.store_message(
                conv.id, OutgoingMessage(sender="system", text=await self._queue_text(conv.id))
            )
            return [stored]
        return []  # an agent holds it: their reply arrives on its own
