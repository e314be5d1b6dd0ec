"""How gateways coordinate: the event hub, per-conversation locks and channel-delivery ownership.

Each is a small interface with two implementations. In memory (:mod:`gateway.hub`,
:mod:`gateway.keyed_locks`, :class:`LocalOwnership`) is the default for one gateway
(``make run``); on Redis (:mod:`gateway.coordination.redis_hub`,
:mod:`gateway.coordination.redis_locks`) several gateways behind a load balancer share one
database and behave as one. :func:`gateway.coordination.wiring.build` picks by ``KEFU_REDIS_URL``.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

from gateway.bounded import LruSet

Event = dict[str, Any]
# "held": this gateway already sends the conversation's deliveries; "taken": it just became the
# sender (it must start from what the database says was delivered); "other": another gateway sends.
Claim = Literal["held", "taken", "other"]


class EventHub(Protocol):
    """Publish/subscribe of conversation and console events."""

    def publish(self, topic: str, event: Event) -> None: ...

    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[asyncio.Queue[Event]]: ...

    def take_overflow(self, queue: asyncio.Queue[Event]) -> bool:
        """Whether ``queue`` may have lost events since the last call (the subscriber resyncs)."""
        ...


class ConversationLocks(Protocol):
    """Mutual exclusion per key (a conversation id), across every gateway that shares the lock."""

    def hold(self, key: str) -> AbstractAsyncContextManager[None]: ...


class DeliveryOwnership(Protocol):
    """Which gateway sends a conversation's Telegram/WeChat deliveries (exactly one at a time),
    and which messages already reached WeChat in a passive reply (given by whichever gateway got
    the webhook, under the conversation's turn lock, before the sender looks)."""

    async def claim(self, conversation_id: str) -> Claim: ...

    async def record_passive(self, conversation_id: str, seqs: list[int]) -> None: ...

    async def take_passive(self, conversation_id: str, seq: int) -> bool:
        """Whether ``seq`` went out passively (and forget it: it is recorded as delivered next)."""
        ...


class LocalOwnership:
    """One gateway: it sends every conversation's deliveries."""

    def __init__(self, remembered: int = 50_000) -> None:
        self._passive: LruSet[tuple[str, int]] = LruSet(remembered)

    async def claim(self, conversation_id: str) -> Claim:
        return "held"

    async def record_passive(self, conversation_id: str, seqs: list[int]) -> None:
        for seq in seqs:
            self._passive.add((conversation_id, seq))

    async def take_passive(self, conversation_id: str, seq: int) -> bool:
        if (conversation_id, seq) in self._passive:
            self._passive.discard((conversation_id, seq))
            return True
        return False
