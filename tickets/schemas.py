"""Pydantic models of the tickets REST API (``/api/tickets``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tickets.views import IncidentInfo, TicketView


class EventOut(BaseModel):
    at: datetime
    actor: str
    kind: str = Field(description="created, status, assignee, department, severity, comment, customer_info, "
                      "merged_report, incident, overdue, rating, contact_viewed")  # fmt: skip
    from_value: str | None
    to_value: str | None
    note: str | None


class CommentOut(BaseModel):
    at: datetime
    author: str
    role: str
    text: str


class IncidentOut(BaseModel):
    id: str
    district: str
    status: str
    title: str
    created_at: datetime
    expected_fix_at: datetime
    ticket_count: int
    summary: str

    @classmethod
    def of(cls, info: IncidentInfo) -> IncidentOut:
        return cls(**info.__dict__)


class TicketOut(BaseModel):
    id: str = Field(examples=["TK20261128-0001"])
    category: str
    category_label: str
    type: str
    type_label: str
    severity: str = Field(description="I (重大) … IV (轻微), guide 7.1")
    severity_label: str
    priority: int = Field(description="1 (highest) … 4")
    priority_label: str
    status: str
    status_label: str
    department: str
    department_label: str
    assignee: str | None
    customer_masked: str = Field(examples=["138****1234"])
    channel: str
    conversation_id: str | None
    district: str | None
    description: str
    details: dict[str, Any]
    materials: list[str]
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
    incident: IncidentOut | None
    history: list[EventOut] = []
    comments: list[CommentOut] = []

    @classmethod
    def of(cls, view: TicketView) -> TicketOut:
        data = dict(view.__dict__)
        data.pop("merged_into_existing")
        data["materials"] = list(view.materials)
        data["incident"] = IncidentOut.of(view.incident) if view.incident else None
        data["history"] = [EventOut(**e.__dict__) for e in view.history]
        data["comments"] = [CommentOut(**c.__dict__) for c in view.comments]
        return cls(**data)


class TicketPageOut(BaseModel):
    items: list[TicketOut]
    total: int
    limit: int
    offset: int


class StatusChange(BaseModel):
    status: str = Field(
        description="new, assigned, in_progress, waiting_customer, resolved, closed, reopened, cancelled"
    )
    note: str | None = Field(default=None, max_length=2000)


class AssigneeChange(BaseModel):
    assignee: str = Field(min_length=1, max_length=64)
    department: str | None = Field(
        default=None, description="network_ops, field_service, billing, business_hall, customer_service"
    )
    note: str | None = Field(default=None, max_length=2000)


class SeverityChange(BaseModel):
    severity: str = Field(description="I, II, III or IV")
    note: str | None = Field(default=None, max_length=2000)


class CommentIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class IncidentResolve(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class ContactOut(BaseModel):
    phone: str
