"""Agents' tools (``/api/agent/...``): private notes, labels, history search, transcript export
(canned responses: ``agent_canned``; availability: ``agent_availability``). Staff sign-in required;
all audited.

The work is in ``gateway.agents`` (canned, notes, labels, search, transcripts, availability,
assignment); routes only translate HTTP to those calls.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import anyio
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from gateway.agent_tools_setup import AgentTools
from gateway.agents.actor import Actor, Forbidden, NotFound, record_action
from gateway.agents.search import SearchQuery
from gateway.agents.transcripts import export
from gateway.api.routes.agent_deps import ActorDep, DeskDep, desk_errors
from gateway.conversations import ConversationNotFound
from gateway.errors import ApiError
from gateway.hub import CONSOLE_TOPIC

router = APIRouter(prefix="/api/agent", tags=["agent tools"])
LabelKind = Literal["conversation", "ticket"]


class NoteIn(BaseModel):
    text: str = Field(max_length=4000, description="Private note, seen by staff only.")


class LabelIn(BaseModel):
    label: str = Field(max_length=64)


def _tools(request: Request) -> AgentTools:
    tools: AgentTools = request.app.state.agent_tools
    return tools


async def _record(request: Request, actor: Actor, action: str, **where: Any) -> None:
    await record_action(request.app.state.audit_log, actor, action, **where)


# ----------------------------------------------------------------------------- private notes
@router.get("/conversations/{conversation_id}/notes")
async def list_notes(
    conversation_id: str, request: Request, desk: DeskDep, actor: ActorDep
) -> dict[str, Any]:
    """Private notes of a conversation, oldest first (never shown to the customer)."""
    with desk_errors():
        await desk.conversation(actor, conversation_id)
    notes = await anyio.to_thread.run_sync(_tools(request).notes.of, conversation_id)
    return {"items": [n.for_role(actor.role) for n in notes]}


@router.post("/conversations/{conversation_id}/notes", status_code=201)
async def add_note(
    conversation_id: str, body: NoteIn, request: Request, desk: DeskDep, actor: ActorDep
) -> dict[str, Any]:
    """Write a private note: staff see it, the customer never does."""
    with desk_errors():
        await desk.conversation(actor, conversation_id)
        note = await anyio.to_thread.run_sync(
            lambda: _tools(request).notes.add(conversation_id, actor.username, body.text)
        )
    # The console hears that a note exists, not what it says (other agents' sockets get this too).
    desk.hub.publish(CONSOLE_TOPIC, {"type": "note", "conversation_id": conversation_id, "id": note.id})
    await _record(request, actor, "note_add", conversation_id=conversation_id, detail={"id": note.id})
    return note.for_role(actor.role)


# ----------------------------------------------------------------------------- labels
@router.get("/labels")
async def labels_in_use(request: Request, actor: ActorDep) -> dict[str, Any]:
    """Every label in use, with counts of conversations and tickets."""
    return {"items": await anyio.to_thread.run_sync(_tools(request).labels.counts)}


@router.get("/labels/of")
async def labels_of(
    request: Request,
    actor: ActorDep,
    kind: LabelKind = "conversation",
    ids: Annotated[str, Query(max_length=20000, description="Comma-separated ids.")] = "",
) -> dict[str, Any]:
    """The labels of the given conversations or tickets (for the console lists)."""
    wanted = [i for i in ids.split(",") if i][:500]
    with desk_errors():
        found = await anyio.to_thread.run_sync(lambda: _tools(request).labels.of(kind, wanted))
    return {"labels": found}


@router.get("/labels/{label}/{kind}s")
async def labelled(label: str, kind: LabelKind, request: Request, actor: ActorDep) -> dict[str, Any]:
    """The ids of the conversations or tickets with ``label`` (the label filter)."""
    with desk_errors():
        ids = await anyio.to_thread.run_sync(lambda: _tools(request).labels.targets(kind, label))
    return {"label": label, "kind": kind, "ids": ids}


@router.post("/{kind}s/{target_id}/labels", status_code=201)
async def add_label(
    kind: LabelKind, target_id: str, body: LabelIn, request: Request, desk: DeskDep, actor: ActorDep
) -> dict[str, Any]:
    """Put a label on a conversation or a ticket."""
    with desk_errors():
        await _check_target(request, desk, actor, kind, target_id)
        added = await anyio.to_thread.run_sync(
            lambda: _tools(request).labels.add(kind, target_id, body.label, actor.username)
        )
    if added:
        await _label_changed(request, desk, actor, "label_add", kind, target_id, body.label.strip())
    return await _labels_now(request, kind, target_id)


@router.delete("/{kind}s/{target_id}/labels/{label}")
async def remove_label(
    kind: LabelKind, target_id: str, label: str, request: Request, desk: DeskDep, actor: ActorDep
) -> dict[str, Any]:
    """Take a label off a conversation or a ticket."""
    with desk_errors():
        await _check_target(request, desk, actor, kind, target_id)
        removed = await anyio.to_thread.run_sync(
            lambda: _tools(request).labels.remove(kind, target_id, label)
        )
    if removed:
        await _label_changed(request, desk, actor, "label_remove", kind, target_id, label)
    return await _labels_now(request, kind, target_id)


async def _labels_now(request: Request, kind: str, target_id: str) -> dict[str, Any]:
    found = await anyio.to_thread.run_sync(lambda: _tools(request).labels.of(kind, [target_id]))
    return {"labels": found.get(target_id, [])}


async def _check_target(request: Request, desk: Any, actor: Actor, kind: str, target_id: str) -> None:
    if kind == "conversation":
        await desk.conversation(actor, target_id)
        return
    from tickets.errors import TicketNotFound

    service = request.app.state.console.tickets()
    try:
        await anyio.to_thread.run_sync(lambda: service.get(target_id))
    except TicketNotFound as exc:
        raise NotFound(exc.code, exc.message_zh, exc.message_en) from exc


async def _label_changed(
    request: Request, desk: Any, actor: Actor, action: str, kind: str, target_id: str, label: str
) -> None:
    desk.hub.publish(CONSOLE_TOPIC, {"type": "labels", "kind": kind, "id": target_id})
    where = {"conversation_id": target_id} if kind == "conversation" else {"ticket_id": target_id}
    await _record(request, actor, action, detail={"label": label, "kind": kind}, **where)


# ----------------------------------------------------------------------------- search and transcripts
def _day(value: date | None, tz: str, *, end: bool = False) -> datetime | None:
    if value is None:
        return None
    start = datetime.combine(value, time.min, tzinfo=ZoneInfo(tz))
    return (start + timedelta(days=1) if end else start).astimezone(UTC)


@router.get("/search", responses={403: {"description": "Phone search by a role that may not"}})
async def search(
    request: Request,
    actor: ActorDep,
    text: Annotated[str, Query(max_length=100)] = "",
    phone: Annotated[str, Query(max_length=20)] = "",
    ticket: Annotated[str, Query(max_length=32)] = "",
    label: Annotated[str, Query(max_length=32)] = "",
    date_from: Annotated[date | None, Query(description="First day (local), YYYY-MM-DD.")] = None,
    date_to: Annotated[date | None, Query(description="Last day (local), YYYY-MM-DD.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    """Conversations of the whole history; by phone only for supervisors and admins."""
    tz = request.app.state.handoff_settings.timezone
    query = SearchQuery(
        text=text,
        phone=phone,
        ticket=ticket,
        label=label,
        since=_day(date_from, tz),
        until=_day(date_to, tz, end=True),
        limit=limit,
    )
    with desk_errors():
        try:
            items = await anyio.to_thread.run_sync(lambda: _tools(request).search.search(query, actor.role))
        except Forbidden:
            await _record(request, actor, "search_refused", detail={"by": "phone"})
            raise
    used = {k: v for k, v in {"text": text, "phone": phone, "ticket": ticket, "label": label}.items() if v}
    await _record(request, actor, "search", detail={**used, "results": len(items)})
    return {"items": items, "total": len(items)}


@router.get("/conversations/{conversation_id}/transcript")
async def transcript(
    conversation_id: str,
    request: Request,
    desk: DeskDep,
    actor: ActorDep,
    format: Literal["txt", "json"] = "txt",
    notes: bool = False,
) -> Response:
    """Download the transcript (numbers masked unless the role may see them; notes on request)."""
    try:
        info = await anyio.to_thread.run_sync(desk.store.get, conversation_id)
    except ConversationNotFound as exc:
        raise ApiError(404, "conversation_not_found", "会话不存在或已过期", "Conversation not found") from exc
    messages = await anyio.to_thread.run_sync(desk.store.messages_after, conversation_id, 0, 10_000)
    kept = await anyio.to_thread.run_sync(_tools(request).notes.of, conversation_id) if notes else []
    tz = request.app.state.handoff_settings.timezone
    document = export(info, messages, kept, role=actor.role, fmt=format, timezone=tz)
    await _record(
        request,
        actor,
        "transcript_export",
        conversation_id=conversation_id,
        detail={"format": format, "notes": notes},
    )
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "no-store",
        },
    )
