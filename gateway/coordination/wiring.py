"""Choose the coordination of this gateway: in memory (one gateway) or Redis (a cluster).

``KEFU_REDIS_URL`` empty (the default, ``make run``) keeps everything in this process. Set, every
gateway that shares the URL and the database shares the hub, the per-conversation locks and the
ownership of channel deliveries.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis

from gateway.conversations import ConversationStore
from gateway.coordination import ConversationLocks, DeliveryOwnership, EventHub, LocalOwnership
from gateway.coordination.redis_hub import RedisHub
from gateway.coordination.redis_locks import RedisLocks, RedisOwnership
from gateway.hub import Hub
from gateway.keyed_locks import KeyedLocks
from gateway.settings import GatewaySettings

PREFIX = "kefu:"
LockFamily = Callable[[str], ConversationLocks]


@dataclass
class Coordination:
    hub: EventHub
    locks: LockFamily  # a family name ("message", "state", "turn") -> its locks
    ownership: DeliveryOwnership
    gateway_id: str
    # In a cluster the dispatcher also looks for deliveries whose sender died, this often.
    delivery_sweep_seconds: float | None = None
    jobs: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    close: Callable[[], Awaitable[None]] | None = None

    async def aclose(self) -> None:
        if self.close is not None:
            await self.close()


def build(settings: GatewaySettings, store: ConversationStore) -> Coordination:
    gateway_id = settings.gateway_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    url = settings.redis_url.get_secret_value()
    if not url:
        return Coordination(Hub(), lambda _family: KeyedLocks(), LocalOwnership(), gateway_id)
    client = Redis.from_url(url, health_check_interval=10, socket_keepalive=True)
    hub = RedisHub(
        client,
        channel=f"{PREFIX}hub",
        gateway_id=gateway_id,
        messages_after=lambda cid, after: [m.to_dict() for m in store.messages_after(cid, after)],
        last_seq=lambda cid: store.get(cid).last_seq,
    )
    lease = settings.coordination_lease_seconds

    def locks(family: str) -> ConversationLocks:
        return RedisLocks(client, prefix=f"{PREFIX}lock:{family}:", lease_seconds=lease)

    ownership = RedisOwnership(
        client,
        prefix=f"{PREFIX}sender:",
        gateway_id=gateway_id,
        lease_seconds=settings.delivery_lease_seconds,
    )
    return Coordination(
        hub,
        locks,
        ownership,
        gateway_id,
        delivery_sweep_seconds=settings.delivery_lease_seconds / 2,
        jobs={"redis_hub": hub.run},
        close=client.close,
    )
