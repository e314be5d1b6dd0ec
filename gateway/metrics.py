"""Prometheus metrics of the gateway and the guarded ``/metrics`` endpoint.

Names follow the Prometheus conventions: ``kefu_`` prefix, base units (seconds), ``_total`` on
counters, low-cardinality labels only (route templates, never raw paths or conversation ids).
Who may read ``/metrics``: with ``KEFU_METRICS_TOKEN`` set, a caller sending it as a bearer token;
without it, only a direct loopback caller (no proxy headers), so a reverse proxy on the same host
never exposes it.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import ApiError
from gateway.metrics_settings import MetricsSettings

PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)

HTTP_DURATION = Histogram(
    "kefu_http_request_duration_seconds",
    "Gateway HTTP request latency by route template, method and status class.",
    ("route", "method", "status"),
    buckets=LATENCY_BUCKETS,
)
MESSAGES = Counter("kefu_messages_total", "Messages stored, by channel and sender.", ("channel", "sender"))
HANDOFFS = Counter("kefu_handoffs_total", "Conversations sent to the human queue, by reason.", ("reason",))
QUEUE_WAIT = Histogram(
    "kefu_queue_wait_seconds", "Time from a handoff request to an agent's claim.", buckets=WAIT_BUCKETS
)
QUEUE_LENGTH = Gauge("kefu_queue_length", "Conversations waiting in the human queue now.")
QUEUE_OLDEST_WAIT = Gauge(
    "kefu_queue_oldest_wait_seconds", "How long the longest-waiting conversation has waited."
)
RASA_REQUESTS = Histogram(
    "kefu_rasa_request_duration_seconds",
    "Gateway calls to Rasa, by outcome.",
    ("outcome",),
    buckets=LATENCY_BUCKETS,
)
RASA_ERRORS = Counter(
    "kefu_rasa_errors_total",
    "Rasa unreachable (unavailable), failing (error), answering nothing after an action failed (empty), "
    "or a message kept because this gateway already had its most messages at Rasa (busy).",
    ("kind",),
)
INDEX_RELOAD = Histogram(
    "kefu_index_reload_seconds", "Time to load or reload the knowledge-base index.", buckets=LATENCY_BUCKETS
)
INDEX_RELOAD_FAILURES = Counter("kefu_index_reload_failures_total", "Knowledge-base index loads that failed.")
SLA_BREACHES = Counter(
    "kefu_sla_breaches_total",
    "Tickets flagged overdue (a deadline passed while open), by department.",
    ("department",),
)


def timed_index_load(load: Any) -> Any:
    """Run an index (re)load and record how long it took; returns what ``load`` returned."""
    started = time.perf_counter()
    try:
        result = load()
    except Exception:
        INDEX_RELOAD_FAILURES.inc()
        raise
    if result is not None and result is not False:  # nothing changed: nothing was loaded
        INDEX_RELOAD.observe(time.perf_counter() - started)
    return result


def count_message(channel: str, sender: str) -> None:
    """A message was stored (told by :class:`gateway.conversations.ConversationStore`)."""
    MESSAGES.labels(channel, sender).inc()


def observe_rasa(outcome: str, seconds: float) -> None:
    RASA_REQUESTS.labels(outcome).observe(seconds)
    if outcome != "ok":
        RASA_ERRORS.labels(outcome).inc()


class RequestMetrics:
    """Pure ASGI middleware: latency of each HTTP request by its route template (``/api/x/{id}``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def keep_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, keep_status)
        finally:
            route = scope.get("route")
            template = str(getattr(route, "path", "")) or "unmatched"
            if template.startswith("/static"):
                template = "/static"
            HTTP_DURATION.labels(template, scope["method"], f"{status[0] // 100}xx").observe(
                time.perf_counter() - started
            )


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_metrics_access(request: Request, settings: MetricsSettings) -> None:
    token = settings.token.get_secret_value()
    if token:
        given = request.headers.get("authorization", "")
        if not (given.lower().startswith("bearer ") and secrets.compare_digest(given[7:].strip(), token)):
            raise ApiError(
                401, "metrics_token", "需要监控令牌", "/metrics needs the bearer token (KEFU_METRICS_TOKEN)"
            )
        return
    proxied = any(h in request.headers for h in PROXY_HEADERS)
    if proxied or not _is_loopback(request.client.host if request.client else None):
        raise ApiError(
            403,
            "metrics_local_only",
            "监控指标仅限本机读取",
            "/metrics is for loopback callers (or set KEFU_METRICS_TOKEN)",
        )


router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    check_metrics_access(request, request.app.state.metrics_settings)
    refresh = getattr(request.app.state, "metrics_refresh", None)
    if refresh is not None:
        await refresh()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
