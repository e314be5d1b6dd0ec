"""Customer conversation API: open a conversation, send a message, read history.

Opening a conversation returns its customer token; every other call must carry it in the
``X-Customer-Token`` header (agents, who see conversation ids, read chats through
``/api/agent`` instead, masked by role).
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request

from gateway.api.deps import RouterDep, SettingsDep, StoreDep
from gateway.conversations import ConversationNotFound
from gateway.customer_tokens import CustomerTokens
from gateway.errors import ApiError, conversation_not_found, rate_limited
from gateway.inbound import MAX_SEQ, check_client_msg_id, check_text
from gateway.limits import PublicLimits
from gateway.schemas import ConversationCreated, HistoryOut, MessageIn, MessageOut, ReplyOut
from gateway.settings import GatewaySettings

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


def validate_text(text: object, settings: GatewaySettings) -> str:
    """Reject what no one can answer or store (see ``gateway.inbound``)."""
    return check_text(text, settings.max_message_chars)


def check_customer_token(tokens: CustomerTokens, conversation_id: str, token: str | None) -> None:
    if not token:
        raise ApiError(
            401,
            "customer_token_required",
            "缺少会话凭证，请重新打开聊天窗口",
            "X-Customer-Token is required (returned when the conversation was opened)",
        )
    if not tokens.verify(conversation_id, token):
        raise ApiError(403, "invalid_customer_token", "会话凭证无效", "Invalid customer token")


async def require_customer(
    conversation_id: str,
    request: Request,
    x_customer_token: Annotated[
        str | None, Header(description="Returned by POST /api/conversations.")
    ] = None,
) -> str:
    """The conversation id, once the caller proved it is that conversation's customer.

    ``async``: an HMAC check, cheaper than the worker thread FastAPI would run a ``def`` in."""
    check_customer_token(request.app.state.customer_tokens, conversation_id, x_customer_token)
    return conversation_id


CustomerDep = Annotated[str, Depends(require_customer)]


def _limits(request: Request) -> PublicLimits:
    limits: PublicLimits = request.app.state.limits
    return limits


@router.post("", response_model=ConversationCreated, status_code=201)
async def create_conversation(request: Request, store: StoreDep) -> ConversationCreated:
    """Open a web-chat conversation; keep ``customer_token``, every later call needs it."""
    ip = request.client.host if request.client else "unknown"
    wait = _limits(request).conversations_per_ip.hit(f"conv-ip:{ip}")
    if wait > 0:
        raise rate_limited(
            wait, "新建会话过于频繁，请稍后再试", "Too many new conversations from this address"
        )
    info = await anyio.to_thread.run_sync(store.create)
    tokens: CustomerTokens = request.app.state.customer_tokens
    return ConversationCreated(conversation_id=info.id, customer_token=tokens.issue(info.id))


@router.post("/{conversation_id}/messages", response_model=ReplyOut)
async def send_message(
    conversation_id: CustomerDep,
    payload: MessageIn,
    request: Request,
    router_: RouterDep,
    settings: SettingsDep,
) -> ReplyOut:
    """Send the customer's message; the answer comes from the bot, the queue or the agent."""
    text = validate_text(payload.text, settings)
    client_msg_id = check_client_msg_id(payload.client_msg_id)
    wait = _limits(request).messages_per_conversation.hit(f"msg:{conversation_id}")
    if wait > 0:
        raise rate_limited(wait)
    try:
        result = await router_.handle_customer_message(conversation_id, text, client_msg_id=client_msg_id)
    except ConversationNotFound:
        raise conversation_not_found() from None
    return ReplyOut(
        messages=[MessageOut.model_validate(m.to_dict()) for m in result.messages],
        handled_by=result.handled_by,
    )


@router.get("/{conversation_id}/messages", response_model=HistoryOut)
async def list_messages(
    conversation_id: CustomerDep,
    store: StoreDep,
    after: int = Query(
        default=0, ge=0, le=MAX_SEQ, description="Only messages with a larger sequence number."
    ),
) -> HistoryOut:
    """The conversation's messages after ``after``, the customer's and everyone else's."""
    try:
        info = await anyio.to_thread.run_sync(store.get, conversation_id)
        messages = await anyio.to_thread.run_sync(store.messages_after, conversation_id, after)
    except ConversationNotFound:
        raise conversation_not_found() from None
    return HistoryOut(
        conversation_id=conversation_id,
        handled_by=info.state,
        messages=[MessageOut.model_validate(m.to_dict()) for m in messages],
    )
