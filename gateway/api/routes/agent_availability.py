"""Agent availability (online / busy / away, shown live) and, for supervisors, capacities
(``/api/agent/availability``); every change wakes auto-assignment and is audited."""

from __future__ import annotations

from typing import Any, Literal

import anyio
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from gateway.agents.actor import Actor, Forbidden, NotFound
from gateway.api.routes.agent_deps import ActorDep, DeskDep, desk_errors
from gateway.api.routes.agent_tools import _record, _tools
from gateway.hub import CONSOLE_TOPIC

router = APIRouter(prefix="/api/agent", tags=["agent tools"])


class StatusIn(BaseModel):
    status: Literal["online", "busy", "away"]


class CapacityIn(BaseModel):
    capacity: int | None = Field(default=None, description="0–50; null: the default setting.")


@router.get("/availability")
async def availability(request: Request, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Every active agent's status (offline without an open console), capacity and load."""
    agents = [a for a in await anyio.to_thread.run_sync(desk.directory.list_agents) if a.active]
    views = await anyio.to_thread.run_sync(_tools(request).availability.all, [a.username for a in agents])
    held = await anyio.to_thread.run_sync(desk.store.list_by_state, "agent")
    return {
        "items": [
            {
                **views[a.username].shown(desk.online[a.username] > 0),
                "display_name": a.display_name,
                "role": a.role,
                "holding": sum(1 for c in held if c.assigned_agent == a.username),
            }
            for a in agents
        ]
    }


@router.put("/availability/me")
async def set_status(body: StatusIn, request: Request, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """The signed-in agent's status: online (given conversations), busy or away (not given any)."""
    tools = _tools(request)
    with desk_errors():
        view = await anyio.to_thread.run_sync(lambda: tools.availability.set_status(actor, body.status))
    await _availability_changed(request, desk, actor, "status", actor.username, {"status": body.status})
    return view.shown(desk.online[actor.username] > 0)


@router.put("/availability/{username}/capacity")
async def set_capacity(
    username: str, body: CapacityIn, request: Request, desk: DeskDep, actor: ActorDep
) -> dict[str, Any]:
    """Supervisors: how many conversations an agent is given automatically."""
    tools = _tools(request)
    with desk_errors():
        if not actor.supervises:
            raise Forbidden("supervisors_only", "只有主管可以设置接待上限", "Only supervisors set capacities")
        agent = await anyio.to_thread.run_sync(desk.directory.get, username)
        if agent is None:
            raise NotFound("unknown_agent", f"坐席 {username} 不存在", f"No agent named {username}")
        view = await anyio.to_thread.run_sync(
            lambda: tools.availability.set_capacity(actor, username, body.capacity)
        )
    await _availability_changed(request, desk, actor, "capacity", username, {"capacity": body.capacity})
    return view.shown(desk.online[username] > 0)


async def _availability_changed(
    request: Request, desk: Any, actor: Actor, what: str, username: str, detail: dict[str, Any]
) -> None:
    desk.hub.publish(CONSOLE_TOPIC, {"type": "agents", "username": username, what: detail[what]})
    _tools(request).assigner.wake()
    await _record(request, actor, f"availability_{what}", detail={"agent": username, **detail})
