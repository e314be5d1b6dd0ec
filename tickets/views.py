"""What callers get back from the ticket service: frozen views with Chinese labels, the phone masked.

``ticket_view`` and ``incident_view`` build them from the database rows, inside the caller's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.privacy import mask_phone
from tickets.models import Incident, Ticket, TicketComment, TicketEvent
from tickets.rules import (
    CATEGORY_LABELS,
    DEPARTMENT_LABELS,
    PRIORITY_LABELS,
    SEVERITY_LABELS,
    Category,
    Department,
    Rules,
    Severity,
)
from tickets.state_machine import STATUS_LABELS, Status


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    kind: Annotated[str, Field(description="created, status, assignee, department, severity, comment, "
                    "customer_info, merged_report, incident, overdue, rating, contact_viewed")]  # fmt: skip
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

    # Also the wire form of /api/tickets (tickets.schemas.TicketOut): the Field metadata and the
    # docstrings here are the API's documentation.

    id: Annotated[str, Field(examples=["TK20261128-0001"])]
    category: str
    category_label: str
    type: str
    type_label: str
    severity: Annotated[str, Field(description="I (重大) … IV (轻微), guide 7.1")]
    severity_label: str
    priority: Annotated[int, Field(description="1 (highest) … 4")]
    priority_label: str
    status: str
    status_label: str
    department: str
    department_label: str
    assignee: str | None
    customer_masked: Annotated[str, Field(examples=["138****1234"])]
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
    # True when a repeat report joined this open ticket (the chat says so); not on the wire.
    merged_into_existing: Annotated[bool, Field(exclude=True)] = False
    history: tuple[EventView, ...] = ()
    comments: tuple[CommentView, ...] = ()


@dataclass(frozen=True)
class TicketPage:
    items: list[TicketView]
    total: int
    limit: int
    offset: int


def incident_view(session: Session, incident: Incident, tz: tzinfo) -> IncidentInfo:
    """The outage with its ticket count and the sentence customers read (fix time in ``tz``)."""
    count = session.scalar(select(func.count()).where(Ticket.incident_id == incident.id)) or 0
    eta = incident.expected_fix_at.astimezone(tz).strftime("%m月%d日%H:%M")
    if incident.status == "open":
        summary = f"{incident.title}，抢修中，预计{eta}前恢复"
    else:
        summary = f"{incident.title}已修复"
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


def _history(session: Session, ticket_id: str) -> tuple[EventView, ...]:
    rows = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    )
    return tuple(EventView(e.at, e.actor, e.kind, e.from_value, e.to_value, e.note) for e in rows)


def _comments(session: Session, ticket_id: str) -> tuple[CommentView, ...]:
    rows = session.scalars(
        select(TicketComment).where(TicketComment.ticket_id == ticket_id).order_by(TicketComment.id)
    )
    return tuple(CommentView(c.at, c.author, c.author_role, c.text) for c in rows)


def ticket_view(session: Session, t: Ticket, rules: Rules, tz: tzinfo, *, full: bool = False) -> TicketView:
    """The view of one row; ``full`` adds the audit history and the comments."""
    category = Category(t.category)
    severity = Severity(t.severity)
    status = Status(t.status)
    department = Department(t.department)
    try:
        ttype = rules.ticket_type(t.type)
        type_label, materials = ttype.label, ttype.materials
    except KeyError:  # a type retired from the rules table: show the stored code
        type_label, materials = t.type, ()
    incident = None
    if t.incident_id:
        found = session.get(Incident, t.incident_id)
        incident = incident_view(session, found, tz) if found else None
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
        history=_history(session, t.id) if full else (),
        comments=_comments(session, t.id) if full else (),
    )
