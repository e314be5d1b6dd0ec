"""Outbound dispatcher: forwards stored messages of Telegram/WeChat conversations to the platform.

It listens to the hub's console topic (every stored message). Customer messages are
never echoed; WeChat bot answers already given as a passive reply are skipped. Sends
retry with backoff; each (conversation, seq) is sent at most once per process, in order
per conversation. The highest delivered seq of each conversation is stored, so after a
restart what was stored but not yet delivered is sent (at-least-once across restarts).

Nothing here trusts the hub to be lossless: a gap in a conversation's seqs is filled from
the database, a hub overflow or a database error triggers the same catch-up as a restart,
and a database error on one event is logged, never fatal to the loop. What it remembers per
conversation is size-bounded (LRU), so memory stays flat however many conversations pass.

In a cluster every gateway hears every message; a conversation's deliveries have one sender, the
gateway holding its lease (:class:`gateway.coordination.DeliveryOwnership`). A gateway that takes
the lease over starts from the delivered seq in the database, and a periodic sweep finds the
conversations whose sender died. Which messages went out in a WeChat passive reply is kept with
the ownership (in Redis for a cluster), since the webhook may have reached another gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio

from gateway.bounded import LruDict, LruSet
from gateway.channels.render import message_text
from gateway.channels.telegram import ChannelSendError, TelegramClient
from gateway.channels.wechat import WechatClient
from gateway.conversations import ConversationInfo, ConversationNotFound, ConversationStore
from gateway.coordination import ConversationLocks, DeliveryOwnership, EventHub, LocalOwnership
from gateway.hub import CONSOLE_TOPIC
from gateway.keyed_locks import KeyedLocks

log = logging.getLogger(__name__)
CHANNELS = ("telegram", "wechat")
REMEMBERED_CONVERSATIONS = 10_000
REMEMBERED_MESSAGES = 50_000
DEFAULT_CATCH_UP_WINDOW = timedelta(hours=24)


class OutboundDispatcher:
    def __init__(
        self,
        store: ConversationStore,
        hub: EventHub,
        *,
        telegram: TelegramClient | None,
        wechat: WechatClient | None,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        turn_locks: ConversationLocks | None = None,
        ownership: DeliveryOwnership | None = None,
        sweep_seconds: float | None = None,
    ) -> None:
        self.store = store
        self.hub = hub
        self.telegram = telegram
        self.wechat = wechat
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        # Old entries may be forgotten: what they guard was delivered and recorded long ago.
        self._sent: LruSet[tuple[str, int]] = LruSet(REMEMBERED_MESSAGES)
        self._turns = turn_locks or KeyedLocks()
        self.ownership = ownership or LocalOwnership()
        self.sweep_seconds = sweep_seconds  # None: one gateway, no sender can die but this one
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._channels: LruDict[str, ConversationInfo] = LruDict(REMEMBERED_CONVERSATIONS)
        self._seen: LruDict[str, int] = LruDict(REMEMBERED_CONVERSATIONS)  # highest seq enqueued
        self.failed: list[tuple[str, int]] = []  # last given-up deliveries (bounded below)
        self.catch_ups = 0

    @asynccontextmanager
    async def turn(self, conversation_id: str) -> AsyncIterator[None]:
        """Held by the WeChat webhook while it may still answer passively."""
        async with self._turns.hold(conversation_id):
            yield

    async def mark_passive(self, conversation_id: str, seqs: list[int]) -> None:
        """These messages reached the customer in the passive reply: don't send them again."""
        await self.ownership.record_passive(conversation_id, seqs)  # the sender may be another gateway

    async def run(self, resend_window: timedelta | None = None) -> None:
        window = resend_window or DEFAULT_CATCH_UP_WINDOW
        async with self.hub.subscribe(CONSOLE_TOPIC) as queue:
            behind = resend_window is not None  # after a (re)start: send what is stored, not delivered
            loop = asyncio.get_running_loop()
            next_sweep = loop.time() + (self.sweep_seconds or 0)
            while True:
                if self.sweep_seconds is not None and loop.time() >= next_sweep:
                    behind, next_sweep = True, loop.time() + self.sweep_seconds
                if behind or self.hub.take_overflow(queue):
                    behind = not await self._catch_up(window)
                wait = 5.0 if behind else self.sweep_seconds
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=wait) if wait else await queue.get()
                except TimeoutError:
                    continue  # retry the catch-up that failed, or sweep
                if event.get("type") != "message":
                    continue
                try:
                    await self.on_message(str(event["conversation_id"]), dict(event["message"]))
                except Exception as exc:  # database trouble: this event is caught up from the database
                    log.warning("dispatcher could not handle a message event (%s); catching up", exc)
                    behind = True

    async def _catch_up(self, window: timedelta) -> bool:
        try:
            await self.resend_pending(window)
        except Exception as exc:
            log.warning("dispatcher catch-up from the database failed (%s); retrying", exc)
            return False
        self.catch_ups += 1
        return True

    async def on_message(self, conversation_id: str, message: dict[str, Any]) -> None:
        """A message event from the hub; a seq gap (lost events) is filled from the database first."""
        info = await self._conversation(conversation_id)
        if info is None or info.channel not in CHANNELS or not info.channel_user_id:
            return
        seq = int(message["seq"])
        if not await self._own(info):
            return
        seen = self._seen.get(conversation_id)
        if seen is not None and seq > seen + 1:
            missed = await anyio.to_thread.run_sync(self.store.messages_after, conversation_id, seen)
            for earlier in missed:
                if earlier.seq < seq:
                    await self.enqueue(conversation_id, earlier.to_dict())
        await self.enqueue(conversation_id, message)

    async def enqueue(self, conversation_id: str, message: dict[str, Any]) -> None:
        info = await self._conversation(conversation_id)
        if info is None or info.channel not in CHANNELS or not info.channel_user_id:
            return
        if not await self._own(info):
            return
        seq = int(message["seq"])
        self._seen[conversation_id] = max(seq, self._seen.get(conversation_id) or 0)
        if message.get("sender") == "customer":
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

    async def _own(self, info: ConversationInfo) -> bool:
        """Whether this gateway sends the conversation's deliveries (taking the lease if it is free)."""
        claim = await self.ownership.claim(info.id)
        if claim == "other":
            self._seen.pop(info.id)  # what the sender delivers is not ours to remember
            return False
        if claim == "taken":  # the previous sender may have delivered more than this gateway saw
            self._seen[info.id] = await anyio.to_thread.run_sync(self.store.delivered_seq, info.id)
        return True

    async def drain(self) -> None:
        """Wait for every queued delivery (tests, shutdown)."""
        while self._tails:
            await asyncio.gather(*list(self._tails.values()), return_exceptions=True)

    async def _conversation(self, conversation_id: str) -> ConversationInfo | None:
        """The conversation's channel (cached: channel and user id never change)."""
        info = self._channels.get(conversation_id)
        if info is None:
            try:
                info = await anyio.to_thread.run_sync(self.store.get, conversation_id)
            except ConversationNotFound:
                return None
            self._channels[conversation_id] = info
        return info

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
        if info.channel == "wechat" and await self.ownership.take_passive(*key):
            self._sent.add(key)
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
        self.failed = [*self.failed[-99:], key]
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
