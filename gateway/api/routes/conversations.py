"""Customer conversation API: open a conversation, send a message, read history."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Query

from gateway.api.deps import RouterDep, SettingsDep, StoreDep
from gateway.conversations import ConversationNotFound
from gateway.errors import ApiError, conversation_not_found
from gateway.schemas import ConversationCreated, HistoryOut, MessageIn, MessageOut, ReplyOut
from gateway.settings import GatewaySettings

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


def validate_text(text: str, settings: GatewaySettings) -> str:
    """Reject what no one can answer: empty or over-long messages."""
    cleaned = text.strip()
    if not cleaned:
        raise ApiError(422, "empty_message", "消息不能为空", "Message must not be empty")
    if len(cleaned) > settings.max_message_chars:
        raise ApiError(
            422,
            "message_too_long",
            f"消息过长，请控制在 {settings.max_message_chars} 字以内",
            f"Message is longer than {settings.max_message_chars} characters",
        )
    return cleaned


@router.post("", response_model=ConversationCreated, status_code=201)
async def create_conversation(store: StoreDep) -> ConversationCreated:
    """Open a web-chat conversation."""
    info = await anyio.to_thread.run_sync(store.create)
    return ConversationCreated(conversation_id=info.id)


@router.post("/{conversation_id}/messages", response_model=ReplyOut)
async def send_message(
    conversation_id: str, payload: MessageIn, router_: RouterDep, settings: SettingsDep
) -> ReplyOut:
    """Send the customer's message; the answer comes from the bot, the queue or the agent."""
    text = validate_text(payload.text, settings)
    try:
        result = await router_.handle_customer_message(
            conversation_id, text, client_msg_id=payload.client_msg_id
        )
    except ConversationNotFound:
        raise conversation_not_found() from None
    return ReplyOut(
        messages=[MessageOut.model_validate(m.to_dict()) for m in result.messages],
        handled_by=result.handled_by,
    )


@router.get("/{conversation_id}/messages", response_model=HistoryOut)
async def list_messages(
    conversation_id: str,
    store: StoreDep,
    after: int = Query(default=0, ge=0, description="Only messages with a larger sequence number."),
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
