"""FastAPI dependencies: the process-wide services kept on ``app.state``.

The ones that only read ``app.state`` are ``async``: FastAPI runs a plain ``def`` dependency in a
worker thread, a thread hop per dependency per request for an attribute lookup.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, Request

from gateway.conversations import ConversationStore
from gateway.errors import ApiError
from gateway.routing import ConversationRouter
from gateway.settings import GatewaySettings

if TYPE_CHECKING:
    from tickets import TicketService


async def get_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


async def get_router(request: Request) -> ConversationRouter:
    router: ConversationRouter = request.app.state.router
    return router


async def get_store(request: Request) -> ConversationStore:
    store: ConversationStore = request.app.state.store
    return store


async def get_knowledge_base(request: Request) -> Any:
    kb = getattr(request.app.state, "knowledge_base", None)
    if kb is None:
        raise ApiError(503, "kb_unavailable", "知识库索引尚未就绪", "Knowledge base index is not available")
    return kb


async def get_ticket_service(request: Request) -> TicketService:
    service: TicketService = request.app.state.ticket_service
    return service


TICKETS_API_PREFIX = "/api/tickets"


class StaffPrincipal:
    """Who is calling a staff API (agent console, tickets)."""

    def __init__(self, username: str, role: str) -> None:
        self.username = username
        self.role = role


def require_staff(request: Request, authorization: Annotated[str | None, Header()] = None) -> StaffPrincipal:
    """Bearer authentication for staff APIs.

    Agent session tokens are checked by the authenticator the agent console installs on
    ``app.state.authenticate`` (if any); the static API token from settings
    (``KEFU_TICKETS_API_TOKEN``) is an integration token for the tickets API only
    (``/api/tickets``): the agent API, the audit log and the console refuse it (403).
    """
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "not_authenticated", "未登录或登录已失效", "Not authenticated")
    token = authorization[7:].strip()
    authenticate = getattr(request.app.state, "authenticate", None)
    if authenticate is not None:
        principal = authenticate(token)
        if principal is not None:
            return principal  # type: ignore[no-any-return]
    api_token: str = getattr(request.app.state, "api_token", "") or ""
    if api_token and secrets.compare_digest(token.encode(), api_token.encode()):
        if not request.url.path.startswith(TICKETS_API_PREFIX):
            raise ApiError(
                403,
                "token_scope",
                "该令牌只能用于工单接口",
                "KEFU_TICKETS_API_TOKEN is valid for /api/tickets only",
            )
        return StaffPrincipal("api", "admin")
    raise ApiError(401, "invalid_token", "登录凭证无效或已过期", "Invalid or expired token")


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
RouterDep = Annotated[ConversationRouter, Depends(get_router)]
StoreDep = Annotated[ConversationStore, Depends(get_store)]
StaffDep = Annotated[StaffPrincipal, Depends(require_staff)]
