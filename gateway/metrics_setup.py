"""Hooks the Prometheus metrics into the gateway (``gateway/metrics.py`` defines them).

Handoffs, claims and overdue flags are counted where they are written (SQLAlchemy events on the
tables), so every path that stores one is counted, whoever wrote it. Messages have one writer, the
conversation store, which counts them itself (:func:`gateway.metrics.count_message`, passed in by
the composition root): its busiest writes are Core statements, which fire no ORM events.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import FastAPI
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from gateway import metrics
from gateway.agents.models import Handoff
from gateway.conversations import ConversationInfo
from gateway.metrics_settings import MetricsSettings
from gateway.models import Conversation
from gateway.rasa_reply import BotReply
from kefu.db import session_scope
from tickets.models import Ticket

_listening = False


def install(app: FastAPI) -> None:
    app.state.metrics_settings = MetricsSettings()
    app.add_middleware(metrics.RequestMetrics)
    app.include_router(metrics.router)
    _listen()


async def start(app: FastAPI) -> None:
    app.state.rasa.observe = metrics.observe_rasa
    app.state.router.reply_listeners.append(_count_empty_answer)
    factory: sessionmaker[Session] = app.state.session_factory

    async def refresh() -> None:
        await anyio.to_thread.run_sync(_read_queue, factory)

    app.state.metrics_refresh = refresh


async def _count_empty_answer(conv: ConversationInfo, reply: BotReply) -> None:
    if not reply.messages and reply.handoff is None:
        metrics.RASA_ERRORS.labels("empty").inc()  # an action failed or timed out inside Rasa


def _read_queue(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        length, oldest = session.execute(
            select(func.count(), func.min(Conversation.queued_at)).where(Conversation.state == "queue")
        ).one()
    metrics.QUEUE_LENGTH.set(int(length))
    metrics.QUEUE_OLDEST_WAIT.set((datetime.now(UTC) - oldest).total_seconds() if oldest else 0)


def _listen() -> None:
    global _listening
    if _listening:
        return
    _listening = True
    event.listen(Handoff, "after_insert", _handoff_opened)
    event.listen(Handoff, "after_update", _handoff_changed)
    event.listen(Ticket, "after_update", _ticket_changed)


def _handoff_opened(_mapper: Any, _connection: Any, row: Handoff) -> None:
    metrics.HANDOFFS.labels(row.reason).inc()


def _handoff_changed(_mapper: Any, _connection: Any, row: Handoff) -> None:
    claimed = inspect(row).attrs.claimed_at.history
    if claimed.added and claimed.added[0] is not None and not any(claimed.deleted or ()):
        metrics.QUEUE_WAIT.observe(max(0.0, (row.claimed_at - row.requested_at).total_seconds()))  # type: ignore[operator]


def _ticket_changed(_mapper: Any, _connection: Any, row: Ticket) -> None:
    overdue = inspect(row).attrs.overdue.history
    if overdue.added and overdue.added[0] and not any(overdue.deleted or ()):
        metrics.SLA_BREACHES.labels(row.department).inc()
