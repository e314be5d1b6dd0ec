"""Per-conversation locks and delivery ownership on Redis, shared by every gateway of a cluster.

A lock is a Redis key with a *lease*: the holder renews it while it works (a Rasa call may take
seconds), and a gateway that dies holding it loses it when the lease runs out, so the
conversation is blocked for at most one lease. Waiters of the same gateway queue on a local
lock first, so they take turns in arrival order and only one of them polls Redis.

Delivery ownership is a lease too: the first gateway that handles a conversation's message
becomes its sender, renews the lease with every delivery, and another gateway takes over only
after the lease ran out (the sender died or went quiet).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from gateway.coordination import Claim
from gateway.keyed_locks import KeyedLocks

log = logging.getLogger(__name__)
PASSIVE_TTL_SECONDS = 86_400  # a passive reply's seqs are checked within seconds; a day is plenty

# KEYS[1] the lease, ARGV[1] this gateway, ARGV[2] the lease in ms. 1 renewed, 2 taken, 0 another's.
_CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0
"""


class RedisLocks:
    def __init__(self, client: Redis[bytes], *, prefix: str, lease_seconds: float = 15.0) -> None:
        self._client = client
        self._prefix = prefix
        self._lease = lease_seconds
        self._local = KeyedLocks()

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self._local.hold(key):
            lock = self._client.lock(f"{self._prefix}{key}", timeout=self._lease, sleep=0.05)
            await lock.acquire()
            renew = asyncio.create_task(self._renew(lock, key))
            try:
                yield
            finally:
                renew.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renew
                try:
                    await lock.release()
                except LockError:  # the lease ran out while held: another gateway may have it now
                    log.warning("lock %s expired while held (longer than %.0f s)", key[:16], self._lease)

    async def _renew(self, lock: Lock, key: str) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                await lock.reacquire()
            except Exception as exc:  # Redis away: the lease may lapse; the holder carries on
                log.warning("could not renew lock %s: %s", key[:16], exc)


class RedisOwnership:
    def __init__(
        self, client: Redis[bytes], *, prefix: str, gateway_id: str, lease_seconds: float = 30.0
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._me = gateway_id
        self._lease_ms = int(lease_seconds * 1000)
        self._script = client.register_script(_CLAIM)

    async def claim(self, conversation_id: str) -> Claim:
        key = f"{self._prefix}{conversation_id}"
        result = int(await self._script(keys=[key], args=[self._me, self._lease_ms]))
        return "held" if result == 1 else "taken" if result == 2 else "other"

    async def record_passive(self, conversation_id: str, seqs: list[int]) -> None:
        if seqs:
            key = f"{self._prefix}passive:{conversation_id}"
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.sadd(key, *seqs)
                pipe.expire(key, PASSIVE_TTL_SECONDS)
                await pipe.execute()

    async def take_passive(self, conversation_id: str, seq: int) -> bool:
        return bool(await self._client.srem(f"{self._prefix}passive:{conversation_id}", seq))
