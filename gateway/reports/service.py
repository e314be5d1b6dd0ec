"""The reports: every figure for one query, read in one database session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from gateway.reports import conversation_figures as conv
from gateway.reports import rollups
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

    def _compute(self, session: Session, names: tuple[str, ...], q: ReportQuery) -> list[Figure]:
        at_risk = timedelta(hours=self.settings.sla_at_risk_hours)
        counted: list[rollups.Counts] = []

        def counts() -> rollups.Counts:  # once per request, for the figures that need them
            if not counted:
                counted.append(rollups.counts(session, q.start, q.end, q.channel))
            return counted[0]

        figures: dict[str, Callable[[], Figure]] = {
            "containment": lambda: conv.containment(session, q, counts()),
            "handoffs": lambda: conv.handoffs_by_reason(session, q, counts()),
            "queue_wait": lambda: conv.queue_wait(session, q),
            "per_hour": lambda: conv.per_hour(q, counts()),
            "intents": lambda: conv.intents(counts()),
            "kb_answers": lambda: conv.kb_answers(counts()),
            "tickets": lambda: tick.tickets_opened(session, q),
            "sla": lambda: tick.sla_by_department(session, q, at_risk),
            "csat": lambda: tick.csat(session, q),
            "incidents": lambda: tick.incidents_by_district(session, q),
        }
        unknown = [n for n in names if n not in figures]
        if unknown:
            raise UnknownFigure(unknown[0])
        return [figures[name]() for name in names]

    def refresh_rollups(self) -> None:
        """Roll up the hours closed since the last call (the gateway's background job calls this)."""
        rollups.refresh_quietly(self._sessions, self._clock())

    def _read(self, names: tuple[str, ...], q: ReportQuery) -> list[Figure]:
        with self._sessions() as session:
            return self._compute(session, names, q)

    def figure(self, name: str, q: ReportQuery) -> Figure:
        return self._read((name,), q)[0]

    def all(self, q: ReportQuery) -> list[Figure]:
        return self._read(FIGURE_NAMES, q)
