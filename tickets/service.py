"""TicketService: open, find, work on and rate tickets; the one place ticket rules are enforced.

Used by the Rasa actions (customer side: ``open_ticket``, ``list_for_customer``, ``add_customer_info``,
``cancel_by_customer``, ``pending_rating``, ``rate``) and by the REST API (agent side: ``list_tickets``,
``get``, ``change_status``, ``assign``, ``change_severity``, ``add_comment``, ``resolve_incident``).

Every write runs in one transaction that serialises writers (``BEGIN IMMEDIATE`` on SQLite, row
locks on PostgreSQL) and is retried on contention, so parallel writers never share an id or lose
an update. Phones leave the service only masked (``customer_masked``) except via
``contact_phone``, which records who looked.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from kefu.privacy import mask_phone
from tickets.calendar import WorkingCalendar
from tickets.models import Incident, Ticket, TicketComment, TicketEvent, TicketSequence
from tickets.rules import (
    CATEGORY_LABELS,
    DEFAULT_RULES,
    DEPARTMENT_LABELS,
    PRIORITY_LABELS,
    REOPEN_RESOLUTION,
    SEVERITY_LABELS,
    SEVERITY_PRIORITY,
    Category,
    Department,
    Rules,
    Severity,
    parse_category,
)
from tickets.settings import TicketSettings, get_ticket_settings
from tickets.state_machine import OPEN_STATUSES, STATUS_LABELS, Status, allowed_targets, can_transition

log = logging.getLogger(__name__)
T = TypeVar("T")
CUSTOMER = "customer"
SYSTEM = "system"
PHONE_RE = re.compile(r"^1\d{10}$")
TICKET_ID_RE = re.compile(r"^TK\d{8}-\d{4,6}$")
_RETRIES = 12
_ACTIONS = {"add_info": "补充信息", "assign": "派单", "change_severity": "调整等级"}


# ----------------------------------------------------------------------------- errors
class TicketError(Exception):
    """Base of the service's errors; ``message_zh`` is safe to show to customers and agents."""

    code = "ticket_error"

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


class TicketNotFound(TicketError):
    code = "ticket_not_found"

    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"工单{ticket_id}不存在", f"Ticket {ticket_id} not found")
        self.ticket_id = ticket_id


class IncidentNotFound(TicketError):
    code = "incident_not_found"

    def __init__(self, incident_id: str) -> None:
        super().__init__(f"故障事件{incident_id}不存在", f"Incident {incident_id} not found")


class InvalidTransition(TicketError):
    code = "invalid_transition"

    def __init__(self, ticket_id: str, current: Status, target: Status | str) -> None:
        target_label = (
            STATUS_LABELS[Status(target)] if target in set(Status) else _ACTIONS.get(target, target)
        )
        allowed = "、".join(STATUS_LABELS[s] for s in allowed_targets(current)) or "无（工单已结束）"
        super().__init__(
            f"工单{ticket_id}当前状态为“{STATUS_LABELS[current]}”，不能变更为“{target_label}”；可变更为：{allowed}",
            f"Ticket {ticket_id} is {current.value}; it cannot move to {target}. "
            f"Allowed: {', '.join(s.value for s in allowed_targets(current)) or 'none (finished)'}",
        )
        self.current = current
        self.target = target


class NotTicketOwner(TicketError):
    code = "not_ticket_owner"

    def __init__(self, ticket_id: str) -> None:
        super().__init__(
            f"工单{ticket_id}不属于该号码", f"Ticket {ticket_id} does not belong to this customer"
        )


class InvalidRating(TicketError):
    code = "invalid_rating"


class InvalidTicketData(TicketError):
    code = "invalid_ticket_data"


# ----------------------------------------------------------------------------- views
@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    kind: str
    from_value: str | None
    to_value: str | None
    note: str | None


@dataclass(frozen=True)
class CommentView:
    at: datetime
    author: str
    role: str
    text: str


@dataclass(frozen=True)
class IncidentInfo:
    """A known area outage; ``summary`` is the sentence customers are told."""

    id: str
    district: str
    status: str
    title: str
    created_at: datetime
    expected_fix_at: datetime
    ticket_count: int
    summary: str


@dataclass(frozen=True)
class TicketView:
    """A ticket as callers see it: the phone only masked, labels in Chinese for the chat."""

    id: str
    category: str
    category_label: str
    type: str
    type_label: str
    severity: str
    severity_label: str
    priority: int
    priority_label: str
    status: str
    status_label: str
    department: str
    department_label: str
    assignee: str | None
    customer_masked: str
    channel: str
    conversation_id: str | None
    district: str | None
    description: str
    details: dict[str, Any]
    materials: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    first_response_due_at: datetime
    first_responded_at: datetime | None
    due_at: datetime
    paused: bool
    overdue: bool
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    rating_comment: str | None
    report_count: int
    incident: IncidentInfo | None = None
    merged_into_existing: bool = False
    history: tuple[EventView, ...] = ()
    comments: tuple[CommentView, ...] = ()


@dataclass(frozen=True)
class TicketPage:
    items: list[TicketView]
    total: int
    limit: int
    offset: int


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ----------------------------------------------------------------------------- service
class TicketService:
    """Ticket rules on one database; cheap to construct, safe to share across threads."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        rules: Rules | None = None,
        calendar: WorkingCalendar | None = None,
        clock: Callable[[], datetime] | None = None,
        settings: TicketSettings | None = None,
        notifier: Callable[[TicketView, str], None] | None = None,
    ) -> None:
        """``notifier(view, event)`` is called after commit for ``"resolved"`` (ask for a rating) and
        ``"incident_resolved"``; the gateway wires it to the customer's conversation."""
        self._factory = session_factory
        self.settings = settings or get_ticket_settings()
        self.rules = rules or DEFAULT_RULES
        self.calendar = calendar or WorkingCalendar(
            self.settings.holidays, self.settings.makeup_workdays, self.settings.timezone
        )
        self._clock = clock or _utcnow
        self.notifier = notifier

    # ------------------------------------------------------------------ customer side
    def open_ticket(
        self,
        *,
        category: str,
        type: str,
        phone: str,
        channel: str,
        conversation_id: str | None,
        description: str,
        details: dict[str, Any] | None = None,
        district: str | None = None,
        severity: str | None = None,
        actor: str = CUSTOMER,
    ) -> TicketView:
        """Open a ticket, or add the report to the customer's open ticket for the same problem.

        ``category``: fault | complaint | business | inquiry (also "application", Chinese names).
        ``type``: a type code from ``tickets.rules.TICKET_TYPES`` or the customer's words
        ("宽带断网", "携号转网"); unknown words give the category's "other" type and are kept in
        ``details["type_text"]``. ``severity`` "I".."IV" overrides the type's default.
        The result has ``merged_into_existing=True`` when the report joined an open ticket, and
        ``incident`` set when the district has a known outage (then the ticket is linked to it).
        Raises ``InvalidTicketData`` for an unknown category/severity, a bad phone or empty text.
        """
        cat = self._category(category)
        ttype = self.rules.resolve_type(cat, type)
        digits = re.sub(r"\D", "", phone or "")[-11:]
        if not PHONE_RE.match(digits):
            raise InvalidTicketData("请提供正确的11位手机号码", "A valid 11-digit mobile number is required")
        desc = (description or "").strip()
        if not desc:
            raise InvalidTicketData("请描述一下遇到的问题", "The description must not be empty")
        sev = self._severity(severity) if severity else ttype.severity
        extra = dict(details or {})
        if type and type != ttype.code:
            extra.setdefault("type_text", type)
        district = (district or "").strip() or None

        def work(session: Session) -> tuple[str, bool]:
            now = self._clock()
            self._lock_key(session, f"phone:{digits}")
            existing = self._find_duplicate(session, digits, cat, ttype.code, now)
            if existing is not None:
                existing.report_count += 1
                existing.details = {**existing.details, "repeat_reports": existing.report_count}
                old_priority = existing.priority
                existing.priority = max(1, existing.priority - 1)
                existing.updated_at = now
                session.add(
                    TicketComment(
                        ticket_id=existing.id, at=now, author=actor, author_role="customer", text=desc
                    )
                )
                self._event(
                    session,
                    existing,
                    now,
                    actor,
                    "merged_report",
                    str(old_priority),
                    str(existing.priority),
                    f"客户再次反映：{desc}",
                )
                return existing.id, True
            rule = self.rules.deadline(cat, sev)
            ticket = Ticket(
                id=self._next_id(session, "TK", now, 4),
                category=cat.value,
                type=ttype.code,
                severity=sev.value,
                priority=SEVERITY_PRIORITY[sev],
                status=Status.NEW.value,
                department=ttype.department.value,
                assignee=None,
                phone=digits,
                channel=(channel or "unknown")[:24],
                conversation_id=conversation_id,
                district=district,
                description=desc,
                details=extra,
                incident_id=None,
                report_count=1,
                created_at=now,
                updated_at=now,
                first_response_due_at=self.calendar.deadline(now, rule.first_response),
                first_responded_at=None,
                due_at=self.calendar.deadline(now, rule.resolution),
                sla_started_at=now,
                paused_at=None,
                paused_seconds=0,
                overdue=False,
                version=1,
            )
            session.add(ticket)
            session.flush()
            self._event(
                session,
                ticket,
                now,
                actor,
                "created",
                None,
                Status.NEW.value,
                f"{CATEGORY_LABELS[cat]}·{ttype.label}，派往{DEPARTMENT_LABELS[ttype.department]}（依据《服务指南》{rule.source}）",
            )
            if cat is Category.FAULT and district:
                self._group_incident(session, ticket, now)
            return ticket.id, False

        ticket_id, merged = self._write(work)
        view = self.get(ticket_id)
        return replace(view, merged_into_existing=merged)

    def list_for_customer(self, phone: str) -> list[TicketView]:
        """The customer's tickets, newest first (open and finished)."""
        digits = re.sub(r"\D", "", phone or "")[-11:]
        with self._factory() as session:
            rows = session.scalars(
                select(Ticket)
                .where(Ticket.phone == digits)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            ).all()
            return [self._view(session, t) for t in rows]

    def add_customer_info(self, *, ticket_id: str, phone: str, text: str) -> TicketView:
        """The owner adds information; a ticket waiting for the customer resumes (its SLA clock restarts).

        Raises ``TicketNotFound``, ``NotTicketOwner``, ``InvalidTransition`` (ticket finished),
        ``InvalidTicketData`` (empty text).
        """
        body = (text or "").strip()
        if not body:
            raise InvalidTicketData("补充内容不能为空", "The added information must not be empty")

        def work(session: Session) -> None:
            now = self._clock()
            ticket = self._owned(session, ticket_id, phone)
            status = Status(ticket.status)
            if status not in OPEN_STATUSES:
                raise InvalidTransition(ticket.id, status, "add_info")
            session.add(
                TicketComment(ticket_id=ticket.id, at=now, author=CUSTOMER, author_role="customer", text=body)
            )
            self._event(session, ticket, now, CUSTOMER, "customer_info", None, None, body)
            if status is Status.WAITING_CUSTOMER:
                self._transition(session, ticket, Status.IN_PROGRESS, CUSTOMER, "客户已补充信息", now)
            ticket.updated_at = now

        self._write(work)
        return self.get(ticket_id)

    def cancel_by_customer(self, *, ticket_id: str, phone: str, reason: str) -> TicketView:
        """The owner withdraws an open ticket.

        Raises ``TicketNotFound``, ``NotTicketOwner``, ``InvalidTransition``.
        """

        def work(session: Session) -> None:
            ticket = self._owned(session, ticket_id, phone)
            self._transition(session, ticket, Status.CANCELLED, CUSTOMER, reason or "客户撤销", self._clock())

        self._write(work)
        return self.get(ticket_id)

    def pending_rating(self, phone: str) -> list[TicketView]:
        """Resolved tickets of this customer that still wait for a 1–5 rating, newest first."""
        digits = re.sub(r"\D", "", phone or "")[-11:]
        with self._factory() as session:
            rows = session.scalars(
                select(Ticket)
                .where(
                    Ticket.phone == digits, Ticket.status == Status.RESOLVED.value, Ticket.rating.is_(None)
                )
                .order_by(Ticket.resolved_at.desc())
            ).all()
            return [self._view(session, t) for t in rows]

    def rate(self, *, ticket_id: str, phone: str, score: int, comment: str | None = None) -> TicketView:
        """Store the owner's 1–5 rating (and comment) and close the resolved ticket.

        Raises ``InvalidRating`` (score outside 1–5, ticket not resolved, already rated),
        ``TicketNotFound``, ``NotTicketOwner``.
        """
        return self._rate(ticket_id, score, comment, lambda s: self._owned(s, ticket_id, phone))

    def rate_in_conversation(
        self, *, ticket_id: str, conversation_id: str, score: int, comment: str | None = None
    ) -> TicketView:
        """The rating form shown in the conversation the ticket came from: that conversation is
        the proof of ownership (no second identity check). Raises like ``rate``."""

        def owned(session: Session) -> Ticket:
            ticket = self._locked(session, ticket_id)
            if not conversation_id or ticket.conversation_id != conversation_id:
                raise NotTicketOwner(ticket_id)
            return ticket

        return self._rate(ticket_id, score, comment, owned)

    def _rate(
        self, ticket_id: str, score: int, comment: str | None, load: Callable[[Session], Ticket]
    ) -> TicketView:
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidRating("评分需为1到5分", "The score must be an integer from 1 to 5")

        def work(session: Session) -> None:
            now = self._clock()
            ticket = load(session)
            if ticket.rating is not None:
                raise InvalidRating(f"工单{ticket.id}已经评价过了", f"Ticket {ticket.id} is already rated")
            if ticket.status not in (Status.RESOLVED.value, Status.CLOSED.value):
                raise InvalidRating(
                    f"工单{ticket.id}尚未处理完毕，暂不能评价", f"Ticket {ticket.id} is not resolved yet"
                )
            ticket.rating = score
            ticket.rating_comment = (comment or "").strip() or None
            ticket.rated_at = now
            self._event(session, ticket, now, CUSTOMER, "rating", None, str(score), ticket.rating_comment)
            if ticket.status == Status.RESOLVED.value:
                self._transition(session, ticket, Status.CLOSED, CUSTOMER, "客户已评价", now)

        self._write(work)
        return self.get(ticket_id)

    def known_incident(self, district: str | None) -> IncidentInfo | None:
        """The open outage in a district (to tell a customer before they even report), or None."""
        if not district:
            return None
        with self._factory() as session:
            incident = session.scalars(
                select(Incident).where(Incident.district == district.strip(), Incident.status == "open")
            ).first()
            return self._incident_view(session, incident) if incident else None

    # ------------------------------------------------------------------ reading
    def get(self, ticket_id: str, *, phone: str | None = None) -> TicketView:
        """One ticket with its audit history and comments; with ``phone`` only if that customer owns it."""
        with self._factory() as session:
            ticket = session.get(Ticket, _norm_id(ticket_id))
            if ticket is None:
                raise TicketNotFound(ticket_id)
            if phone is not None and ticket.phone != re.sub(r"\D", "", phone)[-11:]:
                raise NotTicketOwner(ticket_id)
            return self._view(session, ticket, full=True)

    def list_tickets(
        self,
        *,
        status: Sequence[str] | None = None,
        category: str | None = None,
        severity: str | None = None,
        overdue: bool | None = None,
        district: str | None = None,
        department: str | None = None,
        assignee: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> TicketPage:
        """Agents' list, most urgent first (priority, then deadline); filters combine with AND."""
        query = select(Ticket)
        if status:
            query = query.where(Ticket.status.in_([Status(s).value for s in status]))
        if category:
            query = query.where(Ticket.category == self._category(category).value)
        if severity:
            query = query.where(Ticket.severity == self._severity(severity).value)
        if overdue is not None:
            query = query.where(Ticket.overdue.is_(overdue))
        if district:
            query = query.where(Ticket.district == district)
        if department:
            query = query.where(Ticket.department == Department(department).value)
        if assignee:
            query = query.where(Ticket.assignee == assignee)
        limit = max(1, min(limit, 200))
        offset = max(0, offset)
        with self._factory() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(Ticket.priority, Ticket.due_at, Ticket.id).limit(limit).offset(offset)
            ).all()
            return TicketPage([self._view(session, t) for t in rows], total, limit, offset)

    def supervisor_view(self) -> list[TicketView]:
        """Open tickets that missed a deadline, most urgent first (the supervisors' queue)."""
        page = self.list_tickets(status=[s.value for s in OPEN_STATUSES], overdue=True, limit=200)
        return page.items

    def contact_phone(self, ticket_id: str, *, actor: str) -> str:
        """The full phone for an authorised agent who must call the customer; the access is audited."""

        def work(session: Session) -> str:
            ticket = self._locked(session, ticket_id)
            self._event(
                session, ticket, self._clock(), actor, "contact_viewed", None, None, "查看客户完整号码"
            )
            return ticket.phone

        return self._write(work)

    # ------------------------------------------------------------------ agent side
    def change_status(self, ticket_id: str, *, to: str, actor: str, note: str | None = None) -> TicketView:
        """Move a ticket along the lifecycle. Raises ``InvalidTransition`` (with the allowed moves)."""
        try:
            target = Status(to)
        except ValueError as exc:
            raise InvalidTicketData(f"未知的工单状态：{to}", f"Unknown status: {to}") from exc

        def work(session: Session) -> None:
            ticket = self._locked(session, ticket_id)
            self._transition(session, ticket, target, actor, note, self._clock())

        self._write(work)
        view = self.get(ticket_id)
        if target is Status.RESOLVED:
            self._notify(view, "resolved")
        return view

    def assign(
        self,
        ticket_id: str,
        *,
        assignee: str,
        actor: str,
        department: str | None = None,
        note: str | None = None,
    ) -> TicketView:
        """Give the ticket to a person (and optionally another department); a new ticket becomes assigned."""
        name = (assignee or "").strip()
        if not name:
            raise InvalidTicketData("处理人不能为空", "The assignee must not be empty")
        dept = Department(department) if department else None

        def work(session: Session) -> None:
            now = self._clock()
            ticket = self._locked(session, ticket_id)
            if Status(ticket.status) not in OPEN_STATUSES:
                raise InvalidTransition(ticket.id, Status(ticket.status), "assign")
            if dept is not None and dept.value != ticket.department:
                self._event(session, ticket, now, actor, "department", ticket.department, dept.value, note)
                ticket.department = dept.value
            self._event(session, ticket, now, actor, "assignee", ticket.assignee, name, note)
            ticket.assignee = name
            self._responded(ticket, actor, now)
            if ticket.status in (Status.NEW.value, Status.REOPENED.value):
                self._transition(session, ticket, Status.ASSIGNED, actor, note, now)
            ticket.updated_at = now

        self._write(work)
        return self.get(ticket_id)

    def change_severity(
        self, ticket_id: str, *, severity: str, actor: str, note: str | None = None
    ) -> TicketView:
        """Re-grade a ticket; its priority and deadlines follow the rules table for the new level."""
        sev = self._severity(severity)

        def work(session: Session) -> None:
            now = self._clock()
            ticket = self._locked(session, ticket_id)
            if Status(ticket.status) not in OPEN_STATUSES:
                raise InvalidTransition(ticket.id, Status(ticket.status), "change_severity")
            self._set_severity(session, ticket, sev, actor, note, now)

        self._write(work)
        return self.get(ticket_id)

    def add_comment(self, ticket_id: str, *, author: str, text: str, role: str = "agent") -> TicketView:
        """A note on the ticket (agents' work log or a customer's message)."""
        body = (text or "").strip()
        if not body:
            raise InvalidTicketData("备注内容不能为空", "The comment must not be empty")

        def work(session: Session) -> None:
            now = self._clock()
            ticket = self._locked(session, ticket_id)
            session.add(
                TicketComment(ticket_id=ticket.id, at=now, author=author, author_role=role, text=body)
            )
            self._event(session, ticket, now, author, "comment", None, None, body)
            if role != "customer":
                self._responded(ticket, author, now)
            ticket.updated_at = now

        self._write(work)
        return self.get(ticket_id)

    def get_incident(self, incident_id: str) -> IncidentInfo:
        with self._factory() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                raise IncidentNotFound(incident_id)
            return self._incident_view(session, incident)

    def list_incidents(self, *, open_only: bool = True) -> list[IncidentInfo]:
        with self._factory() as session:
            query = select(Incident).order_by(Incident.created_at.desc())
            if open_only:
                query = query.where(Incident.status == "open")
            return [self._incident_view(session, i) for i in session.scalars(query).all()]

    def resolve_incident(self, incident_id: str, *, actor: str, note: str) -> list[TicketView]:
        """Close an outage: every open linked ticket is resolved (and its customer asked for a rating)."""

        def work(session: Session) -> list[str]:
            now = self._clock()
            incident = session.get(Incident, incident_id, with_for_update=True)
            if incident is None:
                raise IncidentNotFound(incident_id)
            if incident.status != "open":
                raise TicketError(
                    f"故障事件{incident_id}已处理完毕", f"Incident {incident_id} is already resolved"
                )
            incident.status = "resolved"
            incident.resolved_at = now
            incident.resolution_note = note
            ids: list[str] = []
            for ticket in session.scalars(
                select(Ticket).where(Ticket.incident_id == incident_id).with_for_update()
            ).all():
                if Status(ticket.status) in OPEN_STATUSES:
                    self._transition(session, ticket, Status.RESOLVED, actor, f"区域故障已修复：{note}", now)
                    ids.append(ticket.id)
            return ids

        views = [self.get(i) for i in self._write(work)]
        for view in views:
            self._notify(view, "incident_resolved")
        return views

    # ------------------------------------------------------------------ background job
    def mark_overdue(self, now: datetime | None = None) -> list[str]:
        """Flag open tickets past a deadline, raise their priority one step, audit it; returns their ids.

        Tickets waiting for the customer are not overdue (their clock is paused).
        """

        def work(session: Session) -> list[str]:
            at = now or self._clock()
            active = [s.value for s in OPEN_STATUSES if s is not Status.WAITING_CUSTOMER]
            rows = session.scalars(
                select(Ticket)
                .where(Ticket.status.in_(active), Ticket.overdue.is_(False))
                .where(
                    (Ticket.due_at < at)
                    | (Ticket.first_responded_at.is_(None) & (Ticket.first_response_due_at < at))
                )
                .with_for_update()
            ).all()
            for ticket in rows:
                missed = "处理时限" if ticket.due_at < at else "首次响应时限"
                old = ticket.priority
                ticket.overdue = True
                ticket.overdue_at = at
                ticket.priority = max(1, ticket.priority - 1)
                ticket.updated_at = at
                self._event(
                    session,
                    ticket,
                    at,
                    SYSTEM,
                    "overdue",
                    str(old),
                    str(ticket.priority),
                    f"已超过{missed}，优先级提升并转主管关注",
                )
            return [t.id for t in rows]

        ids = self._write(work)
        if ids:
            log.info("marked %d ticket(s) overdue", len(ids))
        return ids

    # ------------------------------------------------------------------ internals
    def _write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one serialised transaction, retrying on lock contention or a lost race."""
        for attempt in range(_RETRIES):
            session = self._factory()
            try:
                if session.get_bind().dialect.name == "sqlite":
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                result = work(session)
                session.commit()
                return result
            except (StaleDataError, IntegrityError, OperationalError) as exc:
                session.rollback()
                if attempt == _RETRIES - 1 or not _retryable(exc):
                    raise
                time.sleep(min(0.02 * (2**attempt), 0.5))
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        raise AssertionError("unreachable")

    @staticmethod
    def _lock_key(session: Session, key: str) -> None:
        """Serialise writers of one key on PostgreSQL (SQLite already runs writers one at a time)."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})

    def _next_id(self, session: Session, prefix: str, now: datetime, width: int) -> str:
        day = now.astimezone(self.calendar.tz).strftime("%Y%m%d")
        scope = f"{prefix}{day}"
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(TicketSequence)
            .values(scope=scope, n=1)
            .on_conflict_do_update(index_elements=["scope"], set_={"n": TicketSequence.n + 1})
            .returning(TicketSequence.n)
        )
        n = session.execute(stmt).scalar_one()
        return f"{scope}-{n:0{width}d}"

    def _find_duplicate(
        self, session: Session, phone: str, cat: Category, type_code: str, now: datetime
    ) -> Ticket | None:
        query = select(Ticket).where(
            Ticket.phone == phone,
            Ticket.category == cat.value,
            Ticket.type == type_code,
            Ticket.status.in_([s.value for s in OPEN_STATUSES]),
        )
        if self.settings.duplicate_window_hours:
            query = query.where(
                Ticket.created_at >= now - timedelta(hours=self.settings.duplicate_window_hours)
            )
        return session.scalars(query.order_by(Ticket.created_at.desc()).with_for_update()).first()

    def _group_incident(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """Link a district fault to its open incident, or open one when enough reports arrived lately."""
        district = ticket.district or ""
        self._lock_key(session, f"district:{district}")
        incident = session.scalars(
            select(Incident).where(Incident.district == district, Incident.status == "open")
        ).first()
        if incident is None:
            since = now - timedelta(minutes=self.settings.incident_window_minutes)
            recent = session.scalars(
                select(Ticket).where(
                    Ticket.district == district,
                    Ticket.category == Category.FAULT.value,
                    Ticket.incident_id.is_(None),
                    Ticket.created_at >= since,
                    Ticket.status.in_([s.value for s in OPEN_STATUSES]),
                )
            ).all()
            if len({t.phone for t in recent}) < self.settings.incident_threshold:
                return
            rule = self.rules.deadline(Category.FAULT, Severity.II)
            incident = Incident(
                id=self._next_id(session, "INC", now, 3),
                district=district,
                status="open",
                title=f"{district}网络故障",
                created_at=now,
                expected_fix_at=self.calendar.deadline(now, rule.resolution),
            )
            session.add(incident)
            session.flush()
            members = list(recent)
        else:
            members = [ticket]
        for member in members:
            member.incident_id = incident.id
            self._event(
                session, member, now, SYSTEM, "incident", None, incident.id, f"已关联区域故障{incident.id}"
            )
            if SEVERITY_PRIORITY[Severity(member.severity)] > SEVERITY_PRIORITY[Severity.II]:
                self._set_severity(session, member, Severity.II, SYSTEM, "区域性故障，升级为二级", now)

    def _set_severity(
        self, session: Session, ticket: Ticket, sev: Severity, actor: str, note: str | None, now: datetime
    ) -> None:
        old = ticket.severity
        ticket.severity = sev.value
        ticket.priority = SEVERITY_PRIORITY[sev] - (1 if ticket.overdue else 0) or 1
        rule = self.rules.deadline(Category(ticket.category), sev)
        paused = timedelta(seconds=ticket.paused_seconds)
        ticket.due_at = self.calendar.deadline(ticket.sla_started_at, rule.resolution, paused)
        if ticket.first_responded_at is None:
            ticket.first_response_due_at = self.calendar.deadline(ticket.created_at, rule.first_response)
        ticket.updated_at = now
        self._event(session, ticket, now, actor, "severity", old, sev.value, note)

    def _transition(
        self, session: Session, ticket: Ticket, target: Status, actor: str, note: str | None, now: datetime
    ) -> None:
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
        self._responded(ticket, actor, now)
        self._event(session, ticket, now, actor, "status", current.value, target.value, note)

    @staticmethod
    def _responded(ticket: Ticket, actor: str, now: datetime) -> None:
        if ticket.first_responded_at is None and actor not in (CUSTOMER, SYSTEM):
            ticket.first_responded_at = now

    @staticmethod
    def _event(
        session: Session,
        ticket: Ticket,
        at: datetime,
        actor: str,
        kind: str,
        from_value: str | None,
        to_value: str | None,
        note: str | None,
    ) -> None:
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

    def _locked(self, session: Session, ticket_id: str) -> Ticket:
        ticket = session.get(Ticket, _norm_id(ticket_id), with_for_update=True)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        return ticket

    def _owned(self, session: Session, ticket_id: str, phone: str) -> Ticket:
        ticket = self._locked(session, ticket_id)
        if ticket.phone != re.sub(r"\D", "", phone or "")[-11:]:
            raise NotTicketOwner(ticket_id)
        return ticket

    def _notify(self, view: TicketView, event: str) -> None:
        if self.notifier is None:
            return
        try:
            self.notifier(view, event)
        except Exception:  # a failed notification must not undo a committed change
            log.exception("ticket notifier failed for %s", view.id)

    @staticmethod
    def _category(raw: str) -> Category:
        try:
            return parse_category(raw)
        except ValueError as exc:
            raise InvalidTicketData(f"未知的工单类别：{raw}", f"Unknown ticket category: {raw}") from exc

    @staticmethod
    def _severity(raw: str) -> Severity:
        value = (raw or "").strip().upper()
        value = {"1": "I", "2": "II", "3": "III", "4": "IV"}.get(value, value)
        try:
            return Severity(value)
        except ValueError as exc:
            raise InvalidTicketData(
                f"未知的严重等级：{raw}（应为I–IV）", f"Unknown severity: {raw} (I–IV)"
            ) from exc

    def _incident_view(self, session: Session, incident: Incident) -> IncidentInfo:
        count = session.scalar(select(func.count()).where(Ticket.incident_id == incident.id)) or 0
        eta = incident.expected_fix_at.astimezone(self.calendar.tz).strftime("%m月%d日%H:%M")
        summary = (
            f"{incident.title}，抢修中，预计{eta}前恢复"
            if incident.status == "open"
            else f"{incident.title}已修复"
        )
        return IncidentInfo(
            incident.id,
            incident.district,
            incident.status,
            incident.title,
            incident.created_at,
            incident.expected_fix_at,
            count,
            summary,
        )

    def _view(self, session: Session, t: Ticket, *, full: bool = False) -> TicketView:
        category = Category(t.category)
        severity = Severity(t.severity)
        status = Status(t.status)
        department = Department(t.department)
        try:
            ttype = self.rules.ticket_type(t.type)
            type_label, materials = ttype.label, ttype.materials
        except KeyError:
            type_label, materials = t.type, ()
        incident = None
        if t.incident_id:
            found = session.get(Incident, t.incident_id)
            incident = self._incident_view(session, found) if found else None
        history: tuple[EventView, ...] = ()
        comments: tuple[CommentView, ...] = ()
        if full:
            history = tuple(
                EventView(e.at, e.actor, e.kind, e.from_value, e.to_value, e.note)
                for e in session.scalars(
                    select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)
                )
            )
            comments = tuple(
                CommentView(c.at, c.author, c.author_role, c.text)
                for c in session.scalars(
                    select(TicketComment).where(TicketComment.ticket_id == t.id).order_by(TicketComment.id)
                )
            )
        return TicketView(
            id=t.id,
            category=category.value,
            category_label=CATEGORY_LABELS[category],
            type=t.type,
            type_label=type_label,
            severity=severity.value,
            severity_label=SEVERITY_LABELS[severity],
            priority=t.priority,
            priority_label=PRIORITY_LABELS.get(t.priority, str(t.priority)),
            status=status.value,
            status_label=STATUS_LABELS[status],
            department=department.value,
            department_label=DEPARTMENT_LABELS[department],
            assignee=t.assignee,
            customer_masked=mask_phone(t.phone),
            channel=t.channel,
            conversation_id=t.conversation_id,
            district=t.district,
            description=t.description,
            details=dict(t.details or {}),
            materials=materials,
            created_at=t.created_at,
            updated_at=t.updated_at,
            first_response_due_at=t.first_response_due_at,
            first_responded_at=t.first_responded_at,
            due_at=t.due_at,
            paused=t.paused_at is not None,
            overdue=t.overdue,
            resolved_at=t.resolved_at,
            closed_at=t.closed_at,
            rating=t.rating,
            rating_comment=t.rating_comment,
            report_count=t.report_count,
            incident=incident,
            history=history,
            comments=comments,
        )


def _norm_id(ticket_id: str) -> str:
    return (ticket_id or "").strip().upper()


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, StaleDataError | IntegrityError):
        return True
    message = str(exc).lower()
    return any(word in message for word in ("locked", "deadlock", "could not serialize", "busy"))
