"""What every agent API route needs: the desk, the directory, the acting staff member, error mapping.

Every endpoint except ``login`` needs ``Authorization: Bearer <token>`` (401 without).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from gateway.agents.actor import Actor, DeskError
from gateway.agents.audit import AuditLog
from gateway.agents.auth import AgentDirectory
from gateway.agents.desk import AgentDesk
from gateway.agents.desk_reads import QueueItem
from gateway.api.deps import StaffPrincipal, require_staff
from gateway.errors import ApiError

PREFIX = "/api/agent"


def from_state(name: str) -> Callable[[Request], Any]:
    """A dependency giving the process-wide service the lifespan put on ``app.state``."""

    def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    return get


def current_actor(request: Request, staff: Annotated[StaffPrincipal, Depends(require_staff)]) -> Actor:
    return Actor(staff.username, staff.role, request.client.host if request.client else None)


DeskDep = Annotated[AgentDesk, Depends(from_state("agent_desk"))]
ActorDep = Annotated[Actor, Depends(current_actor)]
DirectoryDep = Annotated[AgentDirectory, Depends(from_state("agent_directory"))]
AuditDep = Annotated[AuditLog, Depends(from_state("audit_log"))]


@contextmanager
def desk_errors() -> Iterator[None]:
    """The desk's errors as API errors (same status, code and bilingual message)."""
    try:
        yield
    except DeskError as exc:
        raise ApiError(exc.status, exc.code, exc.zh, exc.en) from exc


def item_out(item: QueueItem) -> dict[str, Any]:
    return item.to_dict(datetime.now(UTC))


def require_supervisor(actor: Actor) -> None:
    if not actor.supervises:
        raise ApiError(403, "supervisors_only", "只有主管可以查看", "Supervisors only")
