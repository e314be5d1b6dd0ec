"""Which Rasa replica answers a conversation: consistent hashing of the sender id.

Rasa open source cannot safely let two replicas work on one conversation at the same time:
``RedisLockStore`` has a known race when two servers take the same conversation
(RasaHQ/rasa#9213; the fix is only in Rasa Pro). So every conversation is pinned to one replica,
the first one on a hash ring of the sender id. When that replica is down, the conversation moves
to the next one on the ring; with the tracker store shared (PostgreSQL) its dialogue state moves
with it. Adding or removing a replica moves only about ``1/n`` of the conversations.
"""

from __future__ import annotations

import bisect
import hashlib
import time
from collections.abc import Callable, Sequence

VIRTUAL_NODES = 64  # points per replica on the ring: spreads conversations evenly over few replicas


def _point(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


class HashRing:
    """A consistent-hash ring over replica names (their base URLs)."""

    def __init__(self, replicas: Sequence[str], virtual_nodes: int = VIRTUAL_NODES) -> None:
        if not replicas:
            raise ValueError("a hash ring needs at least one replica")
        if len(set(replicas)) != len(replicas):
            raise ValueError(f"replicas must be distinct: {list(replicas)}")
        self.replicas = list(replicas)
        points = sorted(
            (_point(f"{replica}#{i}"), replica) for replica in replicas for i in range(virtual_nodes)
        )
        self._keys = [key for key, _ in points]
        self._owners = [owner for _, owner in points]

    def preference(self, sender: str) -> list[str]:
        """Every replica once, in the order the conversation ``sender`` should try them."""
        start = bisect.bisect(self._keys, _point(sender)) % len(self._keys)
        order: list[str] = []
        for owner in self._owners[start:] + self._owners[:start]:
            if owner not in order:
                order.append(owner)
                if len(order) == len(self.replicas):
                    break
        return order


class ReplicaHealth:
    """Replicas recently found down are tried last for ``down_seconds`` (no connect wait each time)."""

    def __init__(self, down_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.down_seconds = down_seconds
        self._clock = clock
        self._down_until: dict[str, float] = {}

    def mark_down(self, replica: str) -> None:
        self._down_until[replica] = self._clock() + self.down_seconds

    def mark_up(self, replica: str) -> None:
        self._down_until.pop(replica, None)

    def is_down(self, replica: str) -> bool:
        until = self._down_until.get(replica)
        return until is not None and self._clock() < until

    def order(self, preference: list[str]) -> list[str]:
        """``preference`` with the replicas believed down moved to the end (still tried, last)."""
        return [r for r in preference if not self.is_down(r)] + [r for r in preference if self.is_down(r)]
