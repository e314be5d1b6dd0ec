"""The queue and changes of who answers: list, read, claim, release, resolve, reassign."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.agents.actor import Actor
from gateway.agents.desk import AgentDesk
from gateway.agents.desk_reads import masked_message
from gateway.api.routes.agent_deps import PREFIX, ActorDep, DeskDep, desk_errors, item_out

router = APIRouter(prefix=PREFIX, tags=["agent console"])


class EndIn(BaseModel):
    note: str = Field(default="", max_length=500, description="Optional note for the audit log.")


class AssignIn(BaseModel):
    agent: str = Field(max_length=64, description="Username of the agent who takes the conversation.")


@router.get("/queue")
async def queue(desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Waiting conversations, highest priority first, then longest waiting."""
    items = await desk.queue()
    hours = desk.router.human_queue.hours
    return {
        "items": [item_out(i) for i in items],
        "total": len(items),
        "working_hours": hours.spec,
        "open_now": hours.is_open(datetime.now(UTC)),
    }


@router.get("/conversations")
async def conversations(
    desk: DeskDep,
    actor: ActorDep,
    scope: Annotated[Literal["mine", "all"], Query(description="mine, or all (supervisors)")] = "mine",
) -> dict[str, Any]:
    """Conversations the agent holds; supervisors: every queued and held conversation."""
    with desk_errors():
        items = await desk.conversations(actor, scope)
    return {"items": [item_out(i) for i in items], "total": len(items)}


@router.get("/conversations/{conversation_id}")
async def conversation(conversation_id: str, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """A conversation and its transcript (phone numbers masked)."""
    with desk_errors():
        info, messages = await desk.conversation(actor, conversation_id)
    return {
        "conversation_id": info.id,
        "channel": info.channel,
        "state": info.state,
        "assigned_agent": info.assigned_agent,
        "reason": info.handoff_reason,
        "priority": info.priority,
        "messages": [masked_message(m) for m in messages],
    }


@router.post("/conversations/{conversation_id}/claim", responses={409: {"description": "Held by another"}})
async def claim(conversation_id: str, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Take a waiting conversation; only one agent can hold it (409 if another does)."""
    with desk_errors():
        info = await desk.claim(actor, conversation_id)
    return {"conversation_id": info.id, "state": info.state, "assigned_agent": info.assigned_agent}


@router.post("/conversations/{conversation_id}/release")
async def release(
    conversation_id: str, desk: DeskDep, actor: ActorDep, body: EndIn | None = None
) -> dict[str, Any]:
    """Hand the conversation back to the bot, which resumes with its slots and form."""
    return await _end(desk, actor, conversation_id, body, resolved=False)


@router.post("/conversations/{conversation_id}/resolve")
async def resolve(
    conversation_id: str, desk: DeskDep, actor: ActorDep, body: EndIn | None = None
) -> dict[str, Any]:
    """The customer's problem is solved: end the human service (the bot answers any new question)."""
    return await _end(desk, actor, conversation_id, body, resolved=True)


@router.post("/conversations/{conversation_id}/assign")
async def assign(conversation_id: str, body: AssignIn, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Supervisors: give the conversation to another agent."""
    with desk_errors():
        info = await desk.assign(actor, conversation_id, body.agent)
    return {"conversation_id": info.id, "state": info.state, "assigned_agent": info.assigned_agent}


async def _end(
    desk: AgentDesk, actor: Actor, conversation_id: str, body: EndIn | None, *, resolved: bool
) -> dict[str, Any]:
    with desk_errors():
        info = await desk.release(actor, conversation_id, resolved=resolved, note=body.note if body else "")
    return {"conversation_id": info.id, "state": info.state}
