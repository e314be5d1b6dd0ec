"""The event hub across gateways: local fan-out plus Redis pub/sub, gapless by sequence number.

Every event is delivered to this gateway's subscribers and published on one Redis channel
tagged with this gateway's id; each gateway delivers the others' events to its own
subscribers. Redis pub/sub is fire-and-forget (a reconnect loses what was sent meanwhile), so
the hub does not trust it: for a conversation topic it knows the last sequence number it
delivered, drops a message it already delivered, and fills a gap, or whatever a reconnect
may have lost, from the database. All deliveries go through one task, so a subscriber sees a
conversation's messages in order and none twice. Console subscribers (which span every
conversation and fill their own gaps per conversation) are told to resync after a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import anyio
from redis.asyncio import Redis

from gateway.coordination import Event
from gateway.hub import CONSOLE_TOPIC, Hub

log = logging.getLogger(__name__)
TOPIC_PREFIX = "conversation:"
RECONNECT_SECONDS = 1.0
# The database's messages of a conversation after a sequence number, oldest first (as dicts).
MessagesAfter = Callable[[str, int], Sequence[Event]]
LastSeq = Callable[[str], int]


class RedisHub:
    def __init__(
        self,
        client: Redis[bytes],
        *,
        channel: str,
        gateway_id: str,
        messages_after: MessagesAfter,
        last_seq: LastSeq,
        max_queue: int = 1000,
    ) -> None:
        self._client = client
        self._channel = channel
        self._me = gateway_id
        self._messages_after = messages_after
        self._last_seq = last_seq
        self._local = Hub(max_queue)
        self._inbox: asyncio.Queue[tuple[str, Event] | None] = asyncio.Queue()  # None: catch up
        self._outbox: asyncio.Queue[str] = asyncio.Queue(10_000)
        self._delivered: dict[str, int] = {}  # conversation topic -> highest seq delivered here
        self._users: dict[str, int] = {}  # topic -> local subscriptions
        self.connected = asyncio.Event()
        self.reconnects = 0

    def publish(self, topic: str, event: Event) -> None:
        self._inbox.put_nowait((topic, event))
        payload = json.dumps({"origin": self._me, "topic": topic, "event": event}, ensure_ascii=False)
        try:
            self._outbox.put_nowait(payload)
        except asyncio.QueueFull:  # Redis away for long: other gateways catch up from the database
            log.warning("hub outbox full; an event reaches other gateways by catch-up only")

    def take_overflow(self, queue: asyncio.Queue[Event]) -> bool:
        return self._local.take_overflow(queue)

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[asyncio.Queue[Event]]:
        for topic in topics:
            if topic.startswith(TOPIC_PREFIX) and topic not in self._delivered:
                cid = topic.removeprefix(TOPIC_PREFIX)
                self._delivered[topic] = await anyio.to_thread.run_sync(self._last_seq, cid)
            self._users[topic] = self._users.get(topic, 0) + 1
        try:
            async with self._local.subscribe(*topics) as queue:
                yield queue
        finally:
            for topic in topics:
                self._users[topic] -= 1
                if not self._users[topic]:
                    del self._users[topic]
                    self._delivered.pop(topic, None)

    async def run(self) -> None:
        """Publish, listen and deliver until cancelled (a background job of the gateway)."""
        async with anyio.create_task_group() as group:
            group.start_soon(self._deliver_loop)
            group.start_soon(self._publish_loop)
            group.start_soon(self._listen_loop)

    async def _publish_loop(self) -> None:
        payload: str | None = None
        while True:
            payload = payload or await self._outbox.get()
            try:
                await self._client.publish(self._channel, payload)
                payload = None
            except Exception as exc:  # kept and retried; subscribers fill gaps meanwhile
                log.warning("hub publish to Redis failed (%s); retrying", exc)
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen_loop(self) -> None:
        first = True
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                if not first:
                    self.reconnects += 1
                    self._inbox.put_nowait(None)  # what was published meanwhile is in the database
                first = False
                self.connected.set()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._received(message["data"])
            except Exception as exc:
                self.connected.clear()
                log.warning("hub lost Redis (%s); reconnecting", exc)
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                with contextlib.suppress(Exception):  # the connection is gone anyway
                    await pubsub.reset()

    def _received(self, data: bytes | str) -> None:
        try:
            wrapped = json.loads(data)
            if wrapped.get("origin") == self._me:
                return  # delivered locally when published
            topic, event = str(wrapped["topic"]), dict(wrapped["event"])
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("hub ignored a malformed Redis message")
            return
        if topic in self._users:
            self._inbox.put_nowait((topic, event))

    async def _deliver_loop(self) -> None:
        while True:
            item = await self._inbox.get()
            try:
                if item is None:
                    await self._catch_up_all()
                else:
                    await self._deliver(*item)
            except Exception as exc:  # the database away: the next gap or reconnect catches up
                log.warning("hub delivery failed (%s)", exc)

    async def _deliver(self, topic: str, event: Event) -> None:
        last = self._delivered.get(topic)
        if last is None or event.get("type") != "message":
            self._local.publish(topic, event)
            return
        seq = int(event["message"]["seq"])
        if seq <= last:
            return  # already delivered (caught up from the database first)
        if seq > last + 1:
            await self._catch_up(topic)
            return  # the database read includes this message
        self._delivered[topic] = seq
        self._local.publish(topic, event)

    async def _catch_up(self, topic: str) -> None:
        cid = topic.removeprefix(TOPIC_PREFIX)
        after = self._delivered.get(topic)
        if after is None:
            return
        for message in await anyio.to_thread.run_sync(self._messages_after, cid, after):
            seq = int(message["seq"])
            if topic in self._delivered and seq > self._delivered[topic]:
                self._delivered[topic] = seq
                self._local.publish(topic, {"type": "message", "conversation_id": cid, "message": message})

    async def _catch_up_all(self) -> None:
        for topic in list(self._delivered):
            await self._catch_up(topic)
        self._local.mark_overflow(CONSOLE_TOPIC)
