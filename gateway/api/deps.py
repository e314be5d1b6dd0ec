"""FastAPI dependencies: the process-wide services kept on ``app.state``."""

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


def get_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def get_router(request: Request) -> ConversationRouter:
    router: ConversationRouter = request.app.state.router
    return router


def get_store(request: Request) -> ConversationStore:
    store: ConversationStore = request.app.state.store
    return store


def get_knowledge_base(request: Request) -> Any:
    kb = getattr(request.app.state, "knowledge_base", None)
    if kb is None:
        raise ApiError(503, "kb_unavailable", "知识库索引尚未就绪", "Knowledge base index is not available")
    return kb


def get_ticket_service(request: Request) -> TicketService:
    service: TicketService = request.app.state.ticket_service
    return service


class StaffPrincipal:
    """Who is calling a staff API (agent console, tickets)."""

    def __init__(self, username: str, role: str) -> None:
        self.username = username
        self.role = role


def require_staff(request: Request, authorization: Annotated[str | None, Header()] = None) -> StaffPrincipal:
    """Bearer authentication for staff APIs.

    Agent session tokens are checked by the authenticator the agent console installs on
    ``app.state.authenticate`` (if any); the static API token from settings
    (``KEFU_TICKETS_API_TOKEN``) is accepted as an admin integration token.
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
    if api_token and secrets.compare_digest(token, api_token):
        return StaffPrincipal("api", "admin")
    raise ApiError(401, "invalid_token", "登录凭证无效或已过期", "Invalid or expired token")


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
RouterDep = Annotated[ConversationRouter, Depends(get_router)]
StoreDep = Annotated[ConversationStore, Depends(get_store)]
StaffDep = Annotated[StaffPrincipal, Depends(require_staff)]
