"""Rate limits and body-size limits of the public surface.

``RateLimiter`` is the interface the routes use; ``TokenBuckets`` is the in-process
implementation (one gateway process). Memory is bounded: at most ``max_keys`` buckets are
kept, least recently used first out — an evicted bucket was idle longest, so it had
refilled the most anyway.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import error_body

if TYPE_CHECKING:
    from gateway.settings import GatewaySettings


class RateLimiter(Protocol):
    def hit(self, key: str, cost: float = 1.0) -> float:
        """Take ``cost`` from ``key``'s allowance: 0.0 if allowed, else seconds until it would be."""


class TokenBuckets:
    """``capacity`` requests at once, refilled at ``capacity`` per ``period`` seconds, per key."""

    def __init__(
        self,
        capacity: int,
        period: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = float(max(1, capacity))
        self.rate = self.capacity / max(period, 1e-6)
        self.max_keys = max(1, max_keys)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()  # routes call from the event loop and from worker threads

    def hit(self, key: str, cost: float = 1.0) -> float:
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            if tokens >= cost:
                tokens -= cost
                wait = 0.0
            else:
                wait = (cost - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait


def retry_after(seconds: float) -> str:
    """``Retry-After`` in whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


class BodySizeLimit:
    """Refuses an HTTP body over ``max_bytes`` with 413 before any route parses it.

    A declared ``Content-Length`` over the limit is refused at once; a chunked body is counted
    as it streams and cut off when it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}  # exact path -> its own limit (the KB workbench's document upload)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope["path"], self.max_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            await _too_large(send, max_bytes)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    # An HTTPException: FastAPI's body parsing re-raises it as it is (others become 400).
                    raise HTTPException(413, detail=_too_large_body(max_bytes))
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except HTTPException as exc:
            if exc.status_code != 413 or started:
                raise
            await _too_large(send, max_bytes)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large_body(max_bytes: int) -> dict[str, object]:
    return error_body(
        "body_too_large",
        f"请求内容过大（上限 {max_bytes} 字节）",
        f"Request body too large (limit {max_bytes} bytes)",
    )


async def _too_large(send: Send, max_bytes: int) -> None:
    body = json.dumps(_too_large_body(max_bytes), ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class PublicLimits:
    """The buckets of the public surface, built once from the gateway settings."""

    def __init__(self, settings: GatewaySettings) -> None:
        keys = settings.rate_limit_max_keys
        self.requests_per_ip = TokenBuckets(settings.rate_requests_per_ip_minute, 60, max_keys=keys)
        self.conversations_per_ip = TokenBuckets(settings.rate_conversations_per_ip_hour, 3600, max_keys=keys)
        self.messages_per_conversation = TokenBuckets(
            settings.rate_messages_per_conversation_minute, 60, max_keys=keys
        )
        self.ws_frames = TokenBuckets(settings.ws_frames_per_minute, 60, max_keys=keys)
