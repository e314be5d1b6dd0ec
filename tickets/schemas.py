"""Pydantic models of the tickets REST API (``/api/tickets``).

The answers are the service's views themselves (``tickets.views``), so a field is defined once;
the requests are validated here.
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel, Field, RootModel

from tickets.views import IncidentInfo, TicketView


# The views are the wire form (one definition of each field); these wrappers keep the API's names.
class IncidentOut(RootModel[IncidentInfo]):
    @classmethod
    def of(cls, info: IncidentInfo) -> IncidentOut:
        return cls(info)


class TicketOut(RootModel[TicketView]):
    @classmethod
    def of(cls, view: TicketView) -> TicketOut:
        return cls(view)

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        # A ticket is always a JSON object (RootModel types its dump as Any).
        return cast(dict[str, Any], super().model_dump(**kwargs))


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
