"""Rasa's stores chosen by URL, so one ``endpoints.yml`` serves one machine and a cluster.

The tracker store needs nothing here: Rasa's SQL tracker store takes a full database URL
(``KEFU_RASA_TRACKER_URL``: SQLite under var/ by default, PostgreSQL for replicas sharing
conversations). The lock store has no such switch, so :class:`UrlLockStore` reads
``KEFU_RASA_LOCK_STORE_URL``: empty keeps Rasa's in-memory lock store (one replica), a
``redis://`` URL gives every replica the same Redis lock store.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore


def lock_store_from_url(url: str) -> LockStore:
    """``""`` → in memory; ``redis://[:password@]host[:port][/db]`` → Redis (``rediss://`` with TLS)."""
    url = (url or "").strip()
    if not url:
        return InMemoryLockStore()
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"lock store URL must be empty or redis://…, not {parts.scheme!r}")
    db = parts.path.strip("/") or "1"
    return RedisLockStore(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=int(db),
        username=parts.username or None,
        password=parts.password or None,
        use_ssl=parts.scheme == "rediss",
        key_prefix="kefu",
    )


class UrlLockStore:
    """``lock_store: type: bot.stores.UrlLockStore`` in endpoints.yml; ``url`` is the lock store URL.

    Rasa calls ``UrlLockStore(endpoint_config=…)``; the instance it gets back is the real store.
    """

    def __new__(cls, endpoint_config: Any = None) -> LockStore:  # type: ignore[misc]
        return lock_store_from_url(getattr(endpoint_config, "url", None) or "")
