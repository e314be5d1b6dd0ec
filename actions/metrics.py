"""Prometheus metrics of the action server, served at ``/metrics``.

``/metrics`` is not in the server's open paths, so it needs the same ``?token=`` as every action
call (``KEFU_ACTION_SERVER_TOKEN``), and the server binds loopback. Counted per action (the names
come from the domain, a bounded set): runs by outcome and their duration.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from sanic import Sanic
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse, raw

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MAX_ACTION_NAME = 64
# rasa-sdk's webhook: 400 an action rejected its run, 404 no such action, 5xx it raised.
OUTCOMES = {200: "ok", 400: "rejected", 404: "not_found"}


class ActionMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "kefu_action_runs_total",
            "Custom action runs by action and outcome.",
            ("action", "outcome"),
            registry=self.registry,
        )
        self.errors = Counter(
            "kefu_action_errors_total",
            "Custom action runs that failed (rejected, unknown or raised).",
            ("action",),
            registry=self.registry,
        )
        self.duration = Histogram(
            "kefu_action_duration_seconds",
            "Custom action run time by action.",
            ("action",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.requests = Histogram(
            "kefu_action_http_request_duration_seconds",
            "Action server HTTP latency by route and status class.",
            ("route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def install(self, app: Sanic) -> None:
        async def started(request: Request) -> None:
            request.ctx.metrics_started = time.perf_counter()

        async def finished(request: Request, response: BaseHTTPResponse) -> None:
            began = getattr(request.ctx, "metrics_started", None)
            if began is None:
                return
            seconds = time.perf_counter() - began
            route = request.route.path if request.route is not None else "unmatched"
            self.requests.labels("/" + route.lstrip("/"), f"{response.status // 100}xx").observe(seconds)
            if request.path == "/webhook" and request.method == "POST":
                self.action_run(_action_name(request), response.status, seconds)

        async def metrics(_: Request) -> HTTPResponse:
            return raw(generate_latest(self.registry), content_type=CONTENT_TYPE_LATEST)

        app.register_middleware(started, "request")
        app.register_middleware(finished, "response")
        app.add_route(metrics, "/metrics", methods=["GET"], name="kefu_metrics")

    def action_run(self, action: str, status: int, seconds: float) -> None:
        outcome = OUTCOMES.get(status, "error")
        self.runs.labels(action, outcome).inc()
        self.duration.labels(action).observe(seconds)
        if outcome != "ok":
            self.errors.labels(action).inc()


def _action_name(request: Request) -> str:
    try:
        name = (request.json or {}).get("next_action")
    except Exception:  # a body that is not JSON: rasa-sdk refuses it too
        name = None
    return name[:MAX_ACTION_NAME] if isinstance(name, str) and name else "unknown"
