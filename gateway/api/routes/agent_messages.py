"""What an agent does for the customer of a held conversation: write to them, open a ticket, and
agent assist (what the bot understood, the customer's tickets, suggested KB passages)."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from gateway.agents.actor import record_action
from gateway.agents.assist import Assist, customer_phone
from gateway.api.routes.agent_deps import PREFIX, ActorDep, AuditDep, DeskDep, desk_errors
from gateway.errors import ApiError
from gateway.rasa_client import RasaUnavailable

router = APIRouter(prefix=PREFIX, tags=["agent console"])


class AgentMessageIn(BaseModel):
    text: str = Field(description="What the agent writes to the customer (1–2000 characters).")


class TicketIn(BaseModel):
    category: str = Field(description="fault | complaint | business | inquiry (or the Chinese name).")
    type: str = Field(default="", description="Ticket type code or the customer's words.")
    description: str = Field(min_length=1, max_length=2000)
    phone: str | None = Field(default=None, description="Customer phone; default: the bot's verified phone.")
    district: str | None = None
    severity: str | None = Field(default=None, description="I..IV; default: the type's severity.")


@router.get("/conversations/{conversation_id}/assist")
async def assist(conversation_id: str, request: Request, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Agent assist: intents and confidences, slots, masked identity, tickets, suggested KB passages."""
    with desk_errors():
        _, messages = await desk.conversation(actor, conversation_id)
    helper: Assist = request.app.state.agent_assist
    handoff = await anyio.to_thread.run_sync(desk.handoffs.current, conversation_id)
    return await helper.build(conversation_id, messages, handoff)


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=201,
    responses={403: {"description": "Not held by you"}},
)
async def send(conversation_id: str, body: AgentMessageIn, desk: DeskDep, actor: ActorDep) -> dict[str, Any]:
    """Write to the customer (they see it with ``"sender": "agent"``)."""
    with desk_errors():
        stored = await desk.send(actor, conversation_id, body.text)
    return {"message": stored.to_dict()}


@router.post("/conversations/{conversation_id}/tickets", status_code=201)
async def create_ticket(
    conversation_id: str, body: TicketIn, request: Request, desk: DeskDep, actor: ActorDep, audit: AuditDep
) -> dict[str, Any]:
    """Open a ticket for the customer of this conversation (phone: given, or the bot's verified one)."""
    from tickets import TicketError
    from tickets.schemas import TicketOut

    with desk_errors():
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
    await record_action(audit, actor, "ticket_create", conversation_id, view.id, {"category": view.category})
    return TicketOut.of(view).model_dump(mode="json")
