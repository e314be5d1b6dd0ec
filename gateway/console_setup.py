"""Hooks the agent console into the gateway: agent sign-in for every staff API, the agent side
(directory, handoffs, audit, working hours, after-hours messages) that :mod:`gateway.composition`
builds the router and the desk with, agent assist, and the audit of ticket changes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accounts.verification import verified_phone_of
from gateway.agents.assist import Assist
from gateway.agents.audit import AuditLog
from gateway.agents.auth import AgentDirectory
from gateway.agents.handoffs import HandoffLog
from gateway.agents.leave_message import LeaveMessage
from gateway.agents.policy import WorkingHours
from gateway.agents.settings import AuthSettings, HandoffSettings
from gateway.api.deps import StaffPrincipal
from gateway.conversation_owner import ConversationOwner
from gateway.conversations import StateConflict
from gateway.rasa_client import RasaClient

if TYPE_CHECKING:
    from tickets import TicketService

log = logging.getLogger(__name__)
HOUSEKEEPING_SECONDS = 3600
TICKET_PATH = re.compile(r"^/api/tickets/(?P<ticket>[^/]+)(?:/(?P<what>[a-z_]+))?/?$")


@dataclass
class Console:
    """What the console routes need besides the desk: the ticket service."""

    app: FastAPI

    def tickets(self) -> TicketService:
        service: TicketService = self.app.state.ticket_service
        return service


def install(app: FastAPI) -> None:
    """At app creation: settings, the staff authenticator and the ticket audit middleware."""
    app.state.console = Console(app)
    app.state.auth_settings = AuthSettings()
    app.state.handoff_settings = HandoffSettings()
    app.state.authenticate = lambda token: _authenticate(app, token)
    app.add_middleware(TicketAudit, app_ref=app)


def _authenticate(app: FastAPI, token: str) -> StaffPrincipal | None:
    """Agent session tokens for ``require_staff`` (the agent and ticket APIs)."""
    directory: AgentDirectory | None = getattr(app.state, "agent_directory", None)
    if directory is None:
        return None
    agent = directory.authenticate(token)
    return StaffPrincipal(agent.username, agent.role) if agent else None


@dataclass(frozen=True)
class Staffing:
    """The agent side the router and the desk are built with."""

    directory: AgentDirectory
    handoffs: HandoffLog
    audit: AuditLog
    hours: WorkingHours
    leave_message: LeaveMessage


def staffing(
    session_factory: sessionmaker[Session],
    settings: HandoffSettings,
    auth_settings: AuthSettings,
    owner: ConversationOwner,
    rasa: RasaClient,
    tickets: Callable[[], TicketService],
) -> Staffing:
    handoffs = HandoffLog(session_factory)
    hours = WorkingHours(settings.working_hours, settings.timezone)

    async def slots(conversation_id: str) -> dict[str, Any]:
        tracker = await rasa.tracker(conversation_id)
        return dict(tracker.get("slots") or {})

    async def back_to_bot(conversation_id: str) -> None:
        """After an after-hours message became a ticket, the bot answers again."""
        async with owner.state_lock(conversation_id):
            try:
                info = await owner.change(conversation_id, "bot", expect_state="queue", announce=False)
            except StateConflict:
                return
            await anyio.to_thread.run_sync(handoffs.ended, conversation_id, "ticket")
        owner.announce_change(info)

    return Staffing(
        directory=AgentDirectory(session_factory, auth_settings),
        handoffs=handoffs,
        audit=AuditLog(session_factory),
        hours=hours,
        leave_message=LeaveMessage(owner.store, handoffs, tickets, slots, hours, back_to_bot),
    )


def assist(
    session_factory: sessionmaker[Session],
    rasa: RasaClient,
    knowledge_base: Callable[[], Any],
    tickets: Callable[[], TicketService],
) -> Assist:
    return Assist(
        rasa,
        knowledge_base,
        tickets,
        lambda conversation_id: verified_phone_of(session_factory, conversation_id, datetime.now(UTC)),
    )


def housekeeping_job(directory: AgentDirectory) -> Callable[[], Awaitable[None]]:
    """The ``agent_housekeeping`` background job: expired sign-ins are purged."""
    return lambda: _housekeeping(directory)


async def _housekeeping(directory: AgentDirectory) -> None:
    while True:
        with contextlib.suppress(Exception):
            await anyio.to_thread.run_sync(directory.purge_expired)
        await asyncio.sleep(HOUSEKEEPING_SECONDS)


class TicketAudit:
    """Writes every successful change an agent makes through ``/api/tickets`` to the audit log."""

    def __init__(self, app: ASGIApp, app_ref: FastAPI) -> None:
        self.app = app
        self.ref = app_ref

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PATCH", "PUT", "DELETE"):
            await self.app(scope, receive, send)
            return
        match = TICKET_PATH.match(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, capture)
        if status >= 400:
            return
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        try:
            principal = await anyio.to_thread.run_sync(lambda: _authenticate(self.ref, token))
            actor, role = (principal.username, principal.role) if principal else ("api", "admin")
            client = scope.get("client")
            audit: AuditLog = self.ref.state.audit_log
            await anyio.to_thread.run_sync(
                lambda: audit.record(
                    actor=actor,
                    role=role,
                    action=f"ticket_{match.group('what') or 'update'}",
                    ticket_id=match.group("ticket"),
                    ip=client[0] if client else None,
                    detail={"method": scope["method"], "status": status},
                )
            )
        except Exception as exc:  # the change itself succeeded; a lost audit line is logged
            log.error("audit of %s failed: %s", scope["path"], exc)
