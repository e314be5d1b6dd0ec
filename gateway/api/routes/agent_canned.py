"""Canned responses (``/api/agent/canned``): the list and, for supervisors, create, change and remove;
one filled in for a conversation for the composer. Staff sign-in required; changes audited.

Apart from the other agents' tools (``agent_tools``) as a whole resource of its own; the work is in
``gateway.agents.canned``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from gateway.agents.canned import VARIABLES, context_for, render
from gateway.api.routes.agent_deps import ActorDep, DeskDep, desk_errors
from gateway.api.routes.agent_tools import _record, _tools

router = APIRouter(prefix="/api/agent", tags=["agent tools"])


class CannedIn(BaseModel):
    shortcut: str = Field(max_length=32, description="Starts with /, e.g. /退费.")
    title: str = Field(max_length=64)
    body: str = Field(max_length=2000, description="Text with variables {phone} {ticket} {agent}.")


@router.get("/canned")
async def list_canned(
    request: Request, actor: ActorDep, q: Annotated[str, Query(max_length=32)] = ""
) -> dict[str, Any]:
    """Canned responses whose shortcut starts with ``q`` (``/退`` or ``退``); all without ``q``."""
    rows = await anyio.to_thread.run_sync(_tools(request).canned.list, q)
    variables = [{"name": k, "label": v[0]} for k, v in VARIABLES.items()]
    return {"items": [r.to_dict() for r in rows], "variables": variables}


@router.post("/canned", status_code=201)
async def create_canned(body: CannedIn, request: Request, actor: ActorDep) -> dict[str, Any]:
    """Supervisors: a new canned response."""
    with desk_errors():
        view = await anyio.to_thread.run_sync(
            lambda: _tools(request).canned.create(
                actor, shortcut=body.shortcut, title=body.title, body=body.body
            )
        )
    await _record(request, actor, "canned_create", detail={"id": view.id, "shortcut": view.shortcut})
    return view.to_dict()


@router.put("/canned/{canned_id}")
async def update_canned(canned_id: int, body: CannedIn, request: Request, actor: ActorDep) -> dict[str, Any]:
    """Supervisors: change a canned response."""
    with desk_errors():
        view = await anyio.to_thread.run_sync(
            lambda: _tools(request).canned.update(
                actor, canned_id, shortcut=body.shortcut, title=body.title, body=body.body
            )
        )
    await _record(request, actor, "canned_update", detail={"id": view.id, "shortcut": view.shortcut})
    return view.to_dict()


@router.delete("/canned/{canned_id}", status_code=204)
async def delete_canned(canned_id: int, request: Request, actor: ActorDep) -> None:
    """Supervisors: remove a canned response."""
    with desk_errors():
        view = await anyio.to_thread.run_sync(lambda: _tools(request).canned.delete(actor, canned_id))
    await _record(request, actor, "canned_delete", detail={"id": view.id, "shortcut": view.shortcut})


@router.get("/conversations/{conversation_id}/canned/{canned_id}")
async def render_canned(
    conversation_id: str, canned_id: int, request: Request, desk: DeskDep, actor: ActorDep
) -> dict[str, Any]:
    """A canned response filled in for this conversation (the phone masked), for the composer."""
    with desk_errors():
        await desk.conversation(actor, conversation_id)
        view = await anyio.to_thread.run_sync(_tools(request).canned.get, canned_id)
    agent = await anyio.to_thread.run_sync(desk.directory.get, actor.username)
    context = await anyio.to_thread.run_sync(
        lambda: context_for(
            request.app.state.session_factory,
            conversation_id,
            agent.display_name if agent else actor.username,
            datetime.now(UTC),
        )
    )
    with desk_errors():
        rendered = render(view.body, context)
    return {
        "id": view.id,
        "shortcut": view.shortcut,
        "text": rendered.text,
        "missing": list(rendered.missing),
    }
