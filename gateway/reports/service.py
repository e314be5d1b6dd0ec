"""The reports: every figure for one query, read in one database session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from gateway.reports import conversation_figures as conv
from gateway.reports import ticket_figures as tick
from gateway.reports.query import ReportQuery, parse_query
from gateway.reports.settings import ReportsSettings
from gateway.reports.table import Figure

FIGURE_NAMES = (
    "containment",
    "handoffs",
    "queue_wait",
    "per_hour",
    "intents",
    "kb_answers",
    "tickets",
    "sla",
    "csat",
    "incidents",
)


class UnknownFigure(KeyError):
    pass


class Reports:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: ReportsSettings | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._sessions = session_factory
        self.settings = settings or ReportsSettings()
        self._clock = clock or (lambda: datetime.now(UTC))

    def query(self, date_from: str | None, date_to: str | None, channel: str | None) -> ReportQuery:
        """Raises ``InvalidReportQuery`` for a bad period or channel."""
        return parse_query(
            date_from,
            date_to,
            channel,
            now=self._clock(),
            timezone=self.settings.timezone,
            default_days=self.settings.default_days,
        )

    def _compute(self, session: Session, name: str, q: ReportQuery) -> Figure:
        at_risk = timedelta(hours=self.settings.sla_at_risk_hours)
        figures: dict[str, Callable[[], Figure]] = {
            "containment": lambda: conv.containment(session, q),
            "handoffs": lambda: conv.handoffs_by_reason(session, q),
            "queue_wait": lambda: conv.queue_wait(session, q),
            "per_hour": lambda: conv.per_hour(session, q),
            "intents": lambda: conv.intents(session, q),
            "kb_answers": lambda: conv.kb_answers(session, q),
            "tickets": lambda: tick.tickets_opened(session, q),
            "sla": lambda: tick.sla_by_department(session, q, at_risk),
            "csat": lambda: tick.csat(session, q),
            "incidents": lambda: tick.incidents_by_district(session, q),
        }
        if name not in figures:
            raise UnknownFigure(name)
        return figures[name]()

    def figure(self, name: str, q: ReportQuery) -> Figure:
        with self._sessions() as session:
            return self._compute(session, name, q)

    def all(self, q: ReportQuery) -> list[Figure]:
        with self._sessions() as session:
            return [self._compute(session, name, q) for name in FIGURE_NAMES]
