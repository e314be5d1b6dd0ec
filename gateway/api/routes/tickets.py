"""Agents' ticket API: translate HTTP to ``tickets.service.TicketService`` and its errors to 4xx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from gateway.agents.actor import SUPERVISORS
from gateway.api.deps import StaffPrincipal, get_ticket_service, require_staff
from gateway.errors import ApiError
from tickets import (
    IncidentNotFound,
    InvalidRating,
    InvalidTicketData,
    InvalidTransition,
    NotTicketOwner,
    TicketError,
    TicketNotFound,
    TicketService,
)
from tickets.schemas import (
    AssigneeChange,
    CommentIn,
    ContactOut,
    IncidentOut,
    IncidentResolve,
    SeverityChange,
    StatusChange,
    TicketOut,
    TicketPageOut,
)

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

ServiceDep = Annotated[TicketService, Depends(get_ticket_service)]
StaffDep = Annotated[StaffPrincipal, Depends(require_staff)]

_STATUS: tuple[tuple[type[TicketError], int], ...] = (
    (TicketNotFound, 404),
    (IncidentNotFound, 404),
    (InvalidTransition, 409),
    (NotTicketOwner, 403),
    (InvalidRating, 422),
    (InvalidTicketData, 422),
)
_ERRORS = {
    404: "Not found",
    409: "Invalid transition: the ticket's current status does not allow this change",
    403: "Forbidden",
    422: "Invalid input",
}


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except TicketError as exc:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 409)
        raise ApiError(status, exc.code, exc.message_zh, exc.message_en) from exc


def _call(fn: Callable[[], TicketOut]) -> TicketOut:
    with _errors():
        return fn()


@router.get("", response_model=TicketPageOut, summary="List tickets (most urgent first)")
def list_tickets(
    service: ServiceDep,
    staff: StaffDep,
    status: Annotated[list[str] | None, Query(description="repeatable: ?status=new&status=assigned")] = None,
    category: str | None = None,
    severity: str | None = None,
    overdue: bool | None = None,
    district: str | None = None,
    department: str | None = None,
    assignee: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TicketPageOut:
    with _errors():
        try:
            page = service.list_tickets(
                status=status,
                category=category,
                severity=severity,
                overdue=overdue,
                district=district,
                department=department,
                assignee=assignee,
                limit=limit,
                offset=offset,
            )
        except ValueError as exc:
            raise ApiError(422, "invalid_filter", f"筛选条件无效：{exc}", f"Invalid filter: {exc}") from exc
    return TicketPageOut(
        items=[TicketOut.of(v) for v in page.items], total=page.total, limit=limit, offset=offset
    )


@router.get("/supervisor", response_model=list[TicketOut], summary="Overdue open tickets (supervisors' view)")
def supervisor_view(service: ServiceDep, staff: StaffDep) -> list[TicketOut]:
    if staff.role not in SUPERVISORS:  # the tickets integration token counts as admin
        raise ApiError(403, "supervisors_only", "只有主管可以查看", "Supervisors only")
    return [TicketOut.of(v) for v in service.supervisor_view()]


@router.get("/incidents", response_model=list[IncidentOut], summary="Known area outages")
def list_incidents(service: ServiceDep, staff: StaffDep, open_only: bool = True) -> list[IncidentOut]:
    return [IncidentOut.of(i) for i in service.list_incidents(open_only=open_only)]


@router.post(
    "/incidents/{incident_id}/resolve",
    response_model=list[TicketOut],
    summary="Resolve an outage and every open ticket linked to it",
    responses={404: {"description": "No such incident"}, 409: {"description": "Already resolved"}},
)
def resolve_incident(
    incident_id: str, body: IncidentResolve, service: ServiceDep, staff: StaffDep
) -> list[TicketOut]:
    with _errors():
        return [
            TicketOut.of(v)
            for v in service.resolve_incident(incident_id, actor=staff.username, note=body.note)
        ]


@router.get(
    "/{ticket_id}",
    response_model=TicketOut,
    summary="One ticket with its audit trail",
    responses={404: {"description": "No such ticket"}},
)
def get_ticket(ticket_id: str, service: ServiceDep, staff: StaffDep) -> TicketOut:
    return _call(lambda: TicketOut.of(service.get(ticket_id)))


@router.get(
    "/{ticket_id}/contact",
    response_model=ContactOut,
    summary="The customer's full phone number (the access is recorded in the audit trail)",
)
def get_contact(ticket_id: str, service: ServiceDep, staff: StaffDep) -> ContactOut:
    with _errors():
        return ContactOut(phone=service.contact_phone(ticket_id, actor=staff.username))


_CONFLICT: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such ticket"},
    409: {"description": "Not allowed in the current status"},
}


@router.post(
    "/{ticket_id}/status", response_model=TicketOut, summary="Change the status", responses=_CONFLICT
)
def change_status(ticket_id: str, body: StatusChange, service: ServiceDep, staff: StaffDep) -> TicketOut:
    return _call(
        lambda: TicketOut.of(
            service.change_status(ticket_id, to=body.status, actor=staff.username, note=body.note)
        )
    )


@router.post(
    "/{ticket_id}/assignee", response_model=TicketOut, summary="Assign (and re-dispatch)", responses=_CONFLICT
)
def assign(ticket_id: str, body: AssigneeChange, service: ServiceDep, staff: StaffDep) -> TicketOut:
    with _errors():
        try:
            view = service.assign(
                ticket_id,
                assignee=body.assignee,
                actor=staff.username,
                department=body.department,
                note=body.note,
            )
        except ValueError as exc:
            raise ApiError(422, "invalid_department", "未知的处理部门", f"Unknown department: {exc}") from exc
    return TicketOut.of(view)


@router.post(
    "/{ticket_id}/severity", response_model=TicketOut, summary="Re-grade severity", responses=_CONFLICT
)
def change_severity(ticket_id: str, body: SeverityChange, service: ServiceDep, staff: StaffDep) -> TicketOut:
    return _call(
        lambda: TicketOut.of(
            service.change_severity(ticket_id, severity=body.severity, actor=staff.username, note=body.note)
        )
    )


@router.post(
    "/{ticket_id}/comments", response_model=TicketOut, status_code=201, summary="Add an agent's comment"
)
def add_comment(ticket_id: str, body: CommentIn, service: ServiceDep, staff: StaffDep) -> TicketOut:
    return _call(lambda: TicketOut.of(service.add_comment(ticket_id, author=staff.username, text=body.text)))
