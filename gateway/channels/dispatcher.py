"""Outbound dispatcher: forwards stored messages of Telegram/WeChat conversations to the platform.

It listens to the hub's console topic (every stored message). Customer messages are
never echoed; WeChat bot answers already given as a passive reply are skipped. Sends
retry with backoff; each (conversation, seq) is sent at most once per process, in order
per conversation. The highest delivered seq of each conversation is stored, so after a
restart what was stored but not yet delivered is sent (at-least-once across restarts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio

from gateway.channels.render import message_text
from gateway.channels.telegram import ChannelSendError, TelegramClient
from gateway.channels.wechat import WechatClient
from gateway.conversations import ConversationInfo, ConversationNotFound, ConversationStore
from gateway.hub import CONSOLE_TOPIC, Hub

log = logging.getLogger(__name__)
CHANNELS = ("telegram", "wechat")


class OutboundDispatcher:
    def __init__(
        self,
        store: ConversationStore,
        hub: Hub,
        *,
        telegram: TelegramClient | None,
        wechat: WechatClient | None,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
    ) -> None:
        self.store = store
        self.hub = hub
        self.telegram = telegram
        self.wechat = wechat
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self._sent: set[tuple[str, int]] = set()
        self._passive: set[tuple[str, int]] = set()
        self._turns: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._channels: dict[str, ConversationInfo] = {}
        self.failed: list[tuple[str, int]] = []

    @asynccontextmanager
    async def turn(self, conversation_id: str) -> AsyncIterator[None]:
        """Held by the WeChat webhook while it may still answer passively."""
        async with self._turns[conversation_id]:
            yield

    def mark_passive(self, conversation_id: str, seqs: list[int]) -> None:
        """These messages reached the customer in the passive reply: don't send them again."""
        self._passive.update((conversation_id, s) for s in seqs)

    async def run(self, resend_window: timedelta | None = None) -> None:
        async with self.hub.subscribe(CONSOLE_TOPIC) as queue:
            if resend_window is not None:
                await self.resend_pending(resend_window)
            while True:
                event = await queue.get()
                if event.get("type") == "message":
                    await self.enqueue(str(event["conversation_id"]), dict(event["message"]))

    async def enqueue(self, conversation_id: str, message: dict[str, Any]) -> None:
        if message.get("sender") == "customer":
            return
        info = await self._conversation(conversation_id)
        if info is None or info.channel not in CHANNELS or not info.channel_user_id:
            return
        previous = self._tails.get(conversation_id)
        task = asyncio.create_task(self._deliver_after(previous, info, message))
        self._tails[conversation_id] = task

        def _forget(t: asyncio.Task[None]) -> None:
            if self._tails.get(conversation_id) is t:
                del self._tails[conversation_id]

        task.add_done_callback(_forget)

    async def resend_pending(self, window: timedelta) -> int:
        """Queue what recent channel conversations stored but the platform never accepted."""
        since = datetime.now(UTC) - window
        pending = await anyio.to_thread.run_sync(lambda: self.store.undelivered(CHANNELS, since))
        count = 0
        for info, delivered in pending:
            messages = await anyio.to_thread.run_sync(self.store.messages_after, info.id, delivered)
            for message in messages:
                if message.sender != "customer":
                    await self.enqueue(info.id, message.to_dict())
                    count += 1
        if count:
            log.info("re-sending %d undelivered channel message(s) after a restart", count)
        return count

    async def drain(self) -> None:
        """Wait for every queued delivery (tests, shutdown)."""
        while self._tails:
            await asyncio.gather(*list(self._tails.values()), return_exceptions=True)

    async def _conversation(self, conversation_id: str) -> ConversationInfo | None:
        if conversation_id not in self._channels:
            try:
                self._channels[conversation_id] = await anyio.to_thread.run_sync(
                    self.store.get, conversation_id
                )
            except ConversationNotFound:
                return None
        return self._channels[conversation_id]

    async def _deliver_after(
        self, previous: asyncio.Task[None] | None, info: ConversationInfo, message: dict[str, Any]
    ) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        key = (info.id, int(message["seq"]))
        if info.channel == "wechat":
            async with self.turn(info.id):  # wait until the webhook decided passive vs. later
                pass
        if key in self._sent:
            return
        if key in self._passive:
            await self._delivered(info.id, key[1])
            return
        send = self._sender(info, message)
        if send is None:
            return
        for attempt in range(1, self.max_attempts + 1):
            try:
                await send()
            except ChannelSendError as exc:
                log.warning(
                    "%s delivery of seq %s failed (attempt %d/%d): %s",
                    info.channel,
                    key[1],
                    attempt,
                    self.max_attempts,
                    exc,
                )
                if attempt < self.max_attempts:
                    await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
                continue
            self._sent.add(key)
            await self._delivered(info.id, key[1])
            return
        self.failed.append(key)
        log.error("%s delivery of seq %s to conversation %s given up", info.channel, key[1], info.id[:8])

    async def _delivered(self, conversation_id: str, seq: int) -> None:
        try:
            await anyio.to_thread.run_sync(self.store.mark_delivered, conversation_id, seq)
        except Exception as exc:  # the message did reach the customer; at worst it is resent once
            log.warning("could not record delivery of seq %s: %s", seq, exc)

    def _sender(
        self, info: ConversationInfo, message: dict[str, Any]
    ) -> Callable[[], Awaitable[None]] | None:
        user = str(info.channel_user_id)
        if info.channel == "telegram" and self.telegram is not None:
            tg = self.telegram
            return lambda: tg.send_message(user, message)
        if info.channel == "wechat" and self.wechat is not None:
            wx = self.wechat
            text = message_text(message, with_buttons=True)
            return lambda: wx.send_text(user, text)
        return None
