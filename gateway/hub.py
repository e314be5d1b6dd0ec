"""In-process publish/subscribe of new messages, for WebSockets and channel senders.

All conversation writes happen in the gateway process, so an in-memory hub sees
every message; a subscriber that falls behind catches up from the database by
sequence number, so nothing depends on the hub being lossless. A full queue loses
the event, and the hub remembers that it did: :meth:`Hub.take_overflow` tells a
subscriber without sequence gaps to see (the channel dispatcher) that it must resync.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

CONSOLE_TOPIC = "console"


def conversation_topic(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class Hub:
    def __init__(self, max_queue: int = 1000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._max_queue = max_queue
        self._overflowed: set[int] = set()  # id() of subscriber queues that lost an event
        self.dropped = 0

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A stuck subscriber loses hub events; it resyncs from the database by seq.
                self._overflowed.add(id(queue))
                self.dropped += 1

    def mark_overflow(self, topic: str) -> None:
        """Tell every subscriber of ``topic`` to resync (events may have been lost upstream)."""
        for queue in self._subscribers.get(topic, ()):
            self._overflowed.add(id(queue))

    def take_overflow(self, queue: asyncio.Queue[dict[str, Any]]) -> bool:
        """Whether ``queue`` lost events since the last call (and forget that it did)."""
        if id(queue) in self._overflowed:
            self._overflowed.discard(id(queue))
            return True
        return False

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._max_queue)
        for topic in topics:
            self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            self._overflowed.discard(id(queue))
            for topic in topics:
                self._subscribers[topic].discard(queue)
                if not self._subscribers[topic]:
                    del self._subscribers[topic]
