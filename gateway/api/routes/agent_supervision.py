"""Supervisors' views of the agent API: every agent with what each holds, and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query

from gateway.api.routes.agent_deps import (
    PREFIX,
    ActorDep,
    AuditDep,
    DeskDep,
    DirectoryDep,
    require_supervisor,
)

router = APIRouter(prefix=PREFIX, tags=["agent console"])


@router.get("/agents")
async def agents(directory: DirectoryDep, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Supervisors: every agent, online or not, and the conversations each holds."""
    require_supervisor(actor)
    listed = await anyio.to_thread.run_sync(directory.list_agents)
    held = await anyio.to_thread.run_sync(desk.store.list_by_state, "agent")
    return {
        "items": [
            {
                "username": a.username,
                "display_name": a.display_name,
                "role": a.role,
                "active": a.active,
                "online": desk.online[a.username] > 0,
                "holding": [c.id for c in held if c.assigned_agent == a.username],
                "last_login_at": a.last_login_at.isoformat() if a.last_login_at else None,
            }
            for a in listed
        ]
    }


@router.get("/audit")
async def audit(
    log: AuditDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    conversation_id: str | None = None,
    agent: str | None = None,
) -> dict[str, Any]:
    """Supervisors: the audit log, newest first."""
    require_supervisor(actor)
    rows = await anyio.to_thread.run_sync(
        lambda: log.recent(limit=limit, conversation_id=conversation_id, actor=agent)
    )
    return {"items": [r.to_dict() for r in rows]}
