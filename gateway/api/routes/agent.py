"""Agent API (``/api/agent``): sign-in, the queue, claiming, writing, handing back, resolving, assist.

Every endpoint except ``login`` needs ``Authorization: Bearer <token>`` (401 without); the
work itself is in ``gateway.agents`` — routes only translate HTTP to those calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.agents.assist import Assist, customer_phone
from gateway.agents.audit import AuditLog
from gateway.agents.auth import AgentDirectory, InvalidCredentials, LoginLocked
from gateway.agents.desk import Actor, AgentDesk, DeskError, masked_message
from gateway.api.deps import StaffPrincipal, require_staff
from gateway.errors import ApiError, error_body
from gateway.rasa_client import RasaUnavailable

router = APIRouter(prefix="/api/agent", tags=["agent console"])


# ----------------------------------------------------------------------------- schemas
class LoginIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class LoginOut(BaseModel):
    token: str = Field(description="Bearer token for every other staff endpoint.")
    token_type: Literal["bearer"] = "bearer"
    username: str
    display_name: str
    role: str
    expires_at: datetime


class AgentMessageIn(BaseModel):
    text: str = Field(description="What the agent writes to the customer (1–2000 characters).")


class EndIn(BaseModel):
    note: str = Field(default="", max_length=500, description="Optional note for the audit log.")


class AssignIn(BaseModel):
    agent: str = Field(max_length=64, description="Username of the agent who takes the conversation.")


class TicketIn(BaseModel):
    category: str = Field(description="fault | complaint | business | inquiry (or the Chinese name).")
    type: str = Field(default="", description="Ticket type code or the customer's words.")
    description: str = Field(min_length=1, max_length=2000)
    phone: str | None = Field(default=None, description="Customer phone; default: the bot's verified phone.")
    district: str | None = None
    severity: str | None = Field(default=None, description="I..IV; default: the type's severity.")


# ----------------------------------------------------------------------------- dependencies
def get_desk(request: Request) -> AgentDesk:
    desk: AgentDesk = request.app.state.agent_desk
    return desk


def get_directory(request: Request) -> AgentDirectory:
    directory: AgentDirectory = request.app.state.agent_directory
    return directory


def current_actor(request: Request, staff: Annotated[StaffPrincipal, Depends(require_staff)]) -> Actor:
    return Actor(staff.username, staff.role, request.client.host if request.client else None)


DeskDep = Annotated[AgentDesk, Depends(get_desk)]
ActorDep = Annotated[Actor, Depends(current_actor)]


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except DeskError as exc:
        raise ApiError(exc.status, exc.code, exc.zh, exc.en) from exc


def _conversation_out(desk_item: Any) -> dict[str, Any]:
    result: dict[str, Any] = desk_item.to_dict(datetime.now(UTC))
    return result


# ----------------------------------------------------------------------------- sign-in
@router.post(
    "/login",
    response_model=LoginOut,
    responses={401: {"description": "Wrong username or password"}, 429: {"description": "Locked"}},
)
async def login(body: LoginIn, request: Request) -> Any:
    """Sign in with username and password; returns a bearer token that expires."""
    directory = get_directory(request)
    ip = request.client.host if request.client else "unknown"
    try:
        signed = await anyio.to_thread.run_sync(lambda: directory.login(body.username, body.password, ip=ip))
    except LoginLocked as exc:
        return JSONResponse(
            error_body(exc.code, exc.zh, exc.en),
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except InvalidCredentials as exc:
        raise ApiError(401, exc.code, exc.zh, exc.en) from exc
    audit: AuditLog = request.app.state.audit_log
    await anyio.to_thread.run_sync(
        lambda: audit.record(actor=signed.agent.username, role=signed.agent.role, action="login", ip=ip)
    )
    return LoginOut(
        token=signed.token,
        username=signed.agent.username,
        display_name=signed.agent.display_name,
        role=signed.agent.role,
        expires_at=signed.expires_at,
    )


@router.post("/logout", status_code=204)
async def logout(
    request: Request, actor: ActorDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """End this sign-in."""
    token = (authorization or "")[7:].strip()
    await anyio.to_thread.run_sync(get_directory(request).logout, token)
    await _record(request, actor, "logout")


@router.get("/me")
async def me(request: Request, actor: ActorDep) -> dict[str, Any]:
    """Who is signed in."""
    info = await anyio.to_thread.run_sync(get_directory(request).get, actor.username)
    return {
        "username": actor.username,
        "display_name": info.display_name if info else actor.username,
        "role": actor.role,
    }


# ----------------------------------------------------------------------------- the queue
@router.get("/queue")
async def queue(desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Waiting conversations, highest priority first, then longest waiting."""
    items = await desk.queue()
    hours = desk.router.hours
    return {
        "items": [_conversation_out(i) for i in items],
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
    with _errors():
        items = await desk.conversations(actor, scope)
    return {"items": [_conversation_out(i) for i in items], "total": len(items)}


@router.get("/conversations/{conversation_id}")
async def conversation(conversation_id: str, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """A conversation and its transcript (phone numbers masked)."""
    with _errors():
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


@router.get("/conversations/{conversation_id}/assist")
async def assist(conversation_id: str, request: Request, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Agent assist: intents and confidences, slots, masked identity, tickets, suggested KB passages."""
    with _errors():
        _, messages = await desk.conversation(actor, conversation_id)
    helper: Assist = request.app.state.agent_assist
    handoff = await anyio.to_thread.run_sync(desk.handoffs.current, conversation_id)
    return await helper.build(conversation_id, messages, handoff)


@router.post("/conversations/{conversation_id}/claim", responses={409: {"description": "Held by another"}})
async def claim(conversation_id: str, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Take a waiting conversation; only one agent can hold it (409 if another does)."""
    with _errors():
        info = await desk.claim(actor, conversation_id)
    return {"conversation_id": info.id, "state": info.state, "assigned_agent": info.assigned_agent}


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=201,
    responses={403: {"description": "Not held by you"}},
)
async def send(conversation_id: str, body: AgentMessageIn, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Write to the customer (they see it with ``"sender": "agent"``)."""
    with _errors():
        stored = await desk.send(actor, conversation_id, body.text)
    return {"message": stored.to_dict()}


@router.post("/conversations/{conversation_id}/release")
async def release(
    conversation_id: str, desk: DeskDep, actor: ActorDep, body: EndIn | None = None
) -> dict[str, Any]:
    """Hand the conversation back to the bot, which resumes with its slots and form."""
    with _errors():
        info = await desk.release(actor, conversation_id, resolved=False, note=body.note if body else "")
    return {"conversation_id": info.id, "state": info.state}


@router.post("/conversations/{conversation_id}/resolve")
async def resolve(
    conversation_id: str, desk: DeskDep, actor: ActorDep, body: EndIn | None = None
) -> dict[str, Any]:
    """The customer's problem is solved: end the human service (the bot answers any new question)."""
    with _errors():
        info = await desk.release(actor, conversation_id, resolved=True, note=body.note if body else "")
    return {"conversation_id": info.id, "state": info.state}


@router.post("/conversations/{conversation_id}/assign")
async def assign(conversation_id: str, body: AssignIn, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Supervisors: give the conversation to another agent."""
    with _errors():
        info = await desk.assign(actor, conversation_id, body.agent)
    return {"conversation_id": info.id, "state": info.state, "assigned_agent": info.assigned_agent}


@router.post("/conversations/{conversation_id}/tickets", status_code=201)
async def create_ticket(
    conversation_id: str, body: TicketIn, request: Request, desk: DeskDep, actor: ActorDep
) -> dict[str, Any]:
    """Open a ticket for the customer of this conversation (phone: given, or the bot's verified one)."""
    from tickets import TicketError
    from tickets.schemas import TicketOut

    with _errors():
        info, _ = await desk.conversation(actor, conversation_id)
    phone = body.phone
    if not phone:
        try:
            phone, _verified = customer_phone(await request.app.state.rasa.tracker(conversation_id))
        except RasaUnavailable:
            phone = None
    if not phone:
        raise ApiError(
            422,
            "phone_required",
            "未获取到客户手机号，请填写联系电话",
            "The customer's phone is not known; give one",
        )
    service = request.app.state.console.tickets()
    try:
        view = await anyio.to_thread.run_sync(
            lambda: service.open_ticket(
                category=body.category,
                type=body.type or body.category,
                phone=phone,
                channel=info.channel,
                conversation_id=conversation_id,
                description=body.description,
                district=body.district,
                severity=body.severity,
                actor=actor.username,
            )
        )
    except TicketError as exc:
        raise ApiError(422, exc.code, exc.message_zh, exc.message_en) from exc
    await _record(request, actor, "ticket_create", conversation_id, view.id, {"category": view.category})
    return TicketOut.of(view).model_dump(mode="json")


# ----------------------------------------------------------------------------- supervisors
@router.get("/agents")
async def agents(request: Request, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Supervisors: every agent, online or not, and the conversations each holds."""
    _supervisor(actor)
    listed = await anyio.to_thread.run_sync(get_directory(request).list_agents)
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
    request: Request,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    conversation_id: str | None = None,
    agent: str | None = None,
) -> dict[str, Any]:
    """Supervisors: the audit log, newest first."""
    _supervisor(actor)
    log: AuditLog = request.app.state.audit_log
    rows = await anyio.to_thread.run_sync(
        lambda: log.recent(limit=limit, conversation_id=conversation_id, actor=agent)
    )
    return {"items": [r.to_dict() for r in rows]}


def _supervisor(actor: Actor) -> None:
    if not actor.supervises:
        raise ApiError(403, "supervisors_only", "只有主管可以查看", "Supervisors only")


async def _record(
    request: Request,
    actor: Actor,
    action: str,
    conversation_id: str | None = None,
    ticket_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    log: AuditLog = request.app.state.audit_log
    await anyio.to_thread.run_sync(
        lambda: log.record(
            actor=actor.username,
            role=actor.role,
            action=action,
            conversation_id=conversation_id,
            ticket_id=ticket_id,
            ip=actor.ip,
            detail=detail,
        )
    )
