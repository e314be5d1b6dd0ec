"""Wire schemas of the customer-facing API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Button(BaseModel):
    title: str
    payload: str


class Citation(BaseModel):
    section: str
    title: str = ""


class MessageOut(BaseModel):
    seq: int
    sender: Literal["customer", "bot", "agent", "system"]
    text: str
    buttons: list[Button] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    custom: dict[str, object] = Field(default_factory=dict)
    created_at: str | None = None
    client_msg_id: str | None = None


class ConversationCreated(BaseModel):
    conversation_id: str
    customer_token: str = Field(
        description="The customer's secret for this conversation: send it as X-Customer-Token "
        "(WebSocket: ?token=) on every later call. Shown once, never to agents."
    )


class MessageIn(BaseModel):
    text: str = Field(description="What the customer typed (1–2000 characters).")
    client_msg_id: str | None = Field(
        default=None,
        max_length=64,
        description="Optional id chosen by the client; a retry with the same id is stored once.",
    )


class ReplyOut(BaseModel):
    messages: list[MessageOut]
    handled_by: Literal["bot", "queue", "agent"]


class HistoryOut(BaseModel):
    conversation_id: str
    handled_by: Literal["bot", "queue", "agent"]
    messages: list[MessageOut]
