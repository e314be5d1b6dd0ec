"""What every ticket operation shares: the database, the rules and calendar, and the moves that change a
ticket (status, severity) with their audit events. The operations (``customer``, ``agent``,
``incidents``, ``overdue``) build on ``TicketCore``; ``tickets.service.TicketService`` joins them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from accounts.phone import normalize_mobile
from tickets.calendar import WorkingCalendar
from tickets.errors import InvalidTicketData, InvalidTransition, NotTicketOwner, TicketNotFound
from tickets.models import Ticket, TicketEvent, TicketRequest
from tickets.rules import (
    DEFAULT_RULES,
    REOPEN_RESOLUTION,
    SEVERITY_PRIORITY,
    Category,
    Rules,
    Severity,
    parse_category,
)
from tickets.settings import TicketSettings, get_ticket_settings
from tickets.state_machine import Status, can_transition
from tickets.unit_of_work import UnitOfWork, lock_key, next_id
from tickets.views import TicketView, ticket_view

log = logging.getLogger(__name__)
CUSTOMER = "customer"
SYSTEM = "system"
Notifier = Callable[[TicketView, str], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def phone_key(phone: str | None) -> str:
    """The stored form of a customer's phone (11 digits), or "" when it is not a mobile number."""
    return normalize_mobile(phone or "") or ""


def norm_id(ticket_id: str) -> str:
    return (ticket_id or "").strip().upper()


def parse_severity(raw: str) -> Severity:
    """「II」, 「2」 or 「ii」 → ``Severity.II``; anything else is ``InvalidTicketData``."""
    value = (raw or "").strip().upper()
    value = {"1": "I", "2": "II", "3": "III", "4": "IV"}.get(value, value)
    try:
        return Severity(value)
    except ValueError as exc:
        raise InvalidTicketData(
            f"未知的严重等级：{raw}（应为I–IV）", f"Unknown severity: {raw} (I–IV)"
        ) from exc


def category_of(raw: str) -> Category:
    """A category from its code or name; anything else is ``InvalidTicketData``."""
    try:
        return parse_category(raw)
    except ValueError as exc:
        raise InvalidTicketData(f"未知的工单类别：{raw}", f"Unknown ticket category: {raw}") from exc


def record_event(
    session: Session,
    ticket: Ticket,
    at: datetime,
    actor: str,
    kind: str,
    from_value: str | None,
    to_value: str | None,
    note: str | None,
) -> None:
    """One line of the ticket's audit history."""
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=at,
            actor=actor,
            kind=kind,
            from_value=from_value,
            to_value=to_value,
            note=note,
        )
    )


def mark_responded(ticket: Ticket, actor: str, now: datetime) -> None:
    """The first thing staff do on a ticket meets its first-response deadline."""
    if ticket.first_responded_at is None and actor not in (CUSTOMER, SYSTEM):
        ticket.first_responded_at = now


def replayed_request(session: Session, request_key: str | None) -> tuple[str, bool] | None:
    """(ticket id, merged) of what this customer message already did, or None (serialises its replays)."""
    if request_key is None:
        return None
    lock_key(session, f"request:{request_key}")
    row = session.get(TicketRequest, request_key)
    return None if row is None else (row.ticket_id, row.merged)


def remember_request(
    session: Session, request_key: str | None, ticket_id: str, merged: bool, now: datetime
) -> None:
    """Record the result for the message's key, in the transaction that made it (the primary key refuses
    a second one, and the unit of work's retry then finds this row)."""
    if request_key is not None:
        session.add(TicketRequest(key=request_key, ticket_id=ticket_id, merged=merged, created_at=now))


class TicketCore:
    """Ticket rules on one database; cheap to construct, safe to share across threads."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        rules: Rules | None = None,
        calendar: WorkingCalendar | None = None,
        clock: Callable[[], datetime] | None = None,
        settings: TicketSettings | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        """``notifier(view, event)`` is called after commit for ``"resolved"`` (ask for a rating) and
        ``"incident_resolved"``; the gateway wires it to the customer's conversation."""
        self.db = UnitOfWork(session_factory)
        self.settings = settings or get_ticket_settings()
        self.rules = rules or DEFAULT_RULES
        self.calendar = calendar or WorkingCalendar(
            self.settings.holidays, self.settings.makeup_workdays, self.settings.timezone
        )
        self._clock = clock or _utcnow
        self.notifier = notifier

    def get(self, ticket_id: str, *, phone: str | None = None) -> TicketView:
        """One ticket with its audit history and comments; with ``phone`` only if that customer owns it."""
        with self.db.read() as session:
            ticket = session.get(Ticket, norm_id(ticket_id))
            if ticket is None:
                raise TicketNotFound(ticket_id)
            if phone is not None and ticket.phone != phone_key(phone):
                raise NotTicketOwner(ticket_id)
            return self._view(session, ticket, full=True)

    # ------------------------------------------------------------------ shared by the operations
    def _view(self, session: Session, ticket: Ticket, *, full: bool = False) -> TicketView:
        return ticket_view(session, ticket, self.rules, self.calendar.tz, full=full)

    def _views(self, query: Select[tuple[Ticket]]) -> list[TicketView]:
        with self.db.read() as session:
            return [self._view(session, t) for t in session.scalars(query).all()]

    def _next_id(self, session: Session, prefix: str, now: datetime, width: int) -> str:
        """Ids count per local day: ``TK20261201-0001``, ``INC20261201-001``."""
        return next_id(session, f"{prefix}{now.astimezone(self.calendar.tz):%Y%m%d}", width)

    def _locked(self, session: Session, ticket_id: str) -> Ticket:
        ticket = session.get(Ticket, norm_id(ticket_id), with_for_update=True)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        return ticket

    def _owned(self, session: Session, ticket_id: str, phone: str) -> Ticket:
        ticket = self._locked(session, ticket_id)
        if ticket.phone != phone_key(phone):
            raise NotTicketOwner(ticket_id)
        return ticket

    def _notify(self, view: TicketView, event: str) -> None:
        if self.notifier is None:
            return
        try:
            self.notifier(view, event)
        except Exception:  # a failed notification must not undo a committed change
            log.exception("ticket notifier failed for %s", view.id)

    def _set_severity(
        self, session: Session, ticket: Ticket, sev: Severity, actor: str, note: str | None, now: datetime
    ) -> None:
        """Re-grade: priority and deadlines follow the rules table for the new level."""
        old = ticket.severity
        ticket.severity = sev.value
        ticket.priority = SEVERITY_PRIORITY[sev] - (1 if ticket.overdue else 0) or 1
        rule = self.rules.deadline(Category(ticket.category), sev)
        paused = timedelta(seconds=ticket.paused_seconds)
        ticket.due_at = self.calendar.deadline(ticket.sla_started_at, rule.resolution, paused)
        if ticket.first_responded_at is None:
            ticket.first_response_due_at = self.calendar.deadline(ticket.created_at, rule.first_response)
        ticket.updated_at = now
        record_event(session, ticket, now, actor, "severity", old, sev.value, note)

    def _transition(
        self, session: Session, ticket: Ticket, target: Status, actor: str, note: str | None, now: datetime
    ) -> None:
        """A status move allowed by the state machine, with its effect on the SLA clock."""
        current = Status(ticket.status)
        if not can_transition(current, target):
            raise InvalidTransition(ticket.id, current, target)
        if current is Status.WAITING_CUSTOMER and ticket.paused_at is not None:
            ticket.paused_seconds += int((now - ticket.paused_at).total_seconds())
            ticket.paused_at = None
            rule = self.rules.deadline(Category(ticket.category), Severity(ticket.severity))
            ticket.due_at = self.calendar.deadline(
                ticket.sla_started_at, rule.resolution, timedelta(seconds=ticket.paused_seconds)
            )
        if target is Status.WAITING_CUSTOMER:
            ticket.paused_at = now
        elif target is Status.RESOLVED:
            ticket.resolved_at = now
        elif target in (Status.CLOSED, Status.CANCELLED):
            ticket.closed_at = now
        elif target is Status.REOPENED:
            ticket.resolved_at = None
            ticket.sla_started_at = now
            ticket.paused_seconds = 0
            ticket.overdue = False
            ticket.due_at = self.calendar.deadline(now, REOPEN_RESOLUTION)
        ticket.status = target.value
        ticket.updated_at = now
        mark_responded(ticket, actor, now)
        record_event(session, ticket, now, actor, "status", current.value, target.value, note)
