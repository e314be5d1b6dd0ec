"""What the conversation store hands out: conversations, stored and outgoing messages, and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.models import Conversation, Message

SENDERS = ("customer", "bot", "agent", "system")


class ConversationNotFound(LookupError):
    """No conversation with that id (or it expired)."""


@dataclass(frozen=True)
class StoredMessage:
    """A message as the API and the WebSocket show it."""

    seq: int
    sender: str
    text: str
    buttons: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    client_msg_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "sender": self.sender,
            "text": self.text,
            "buttons": self.buttons,
            "citations": self.citations,
            "custom": self.custom,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "client_msg_id": self.client_msg_id,
        }


@dataclass(frozen=True)
class ConversationInfo:
    id: str
    channel: str
    channel_user_id: str | None
    state: str
    assigned_agent: str | None
    handoff_reason: str | None
    queued_at: datetime | None
    priority: int
    last_seq: int
    created_at: datetime
    last_activity_at: datetime


@dataclass(frozen=True)
class OutgoingMessage:
    """A message about to be stored (seq not yet known)."""

    sender: str
    text: str
    buttons: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    agent_id: str | None = None


def info_of(conv: Conversation) -> ConversationInfo:
    return ConversationInfo(
        id=conv.id,
        channel=conv.channel,
        channel_user_id=conv.channel_user_id,
        state=conv.state,
        assigned_agent=conv.assigned_agent,
        handoff_reason=conv.handoff_reason,
        queued_at=conv.queued_at,
        priority=conv.priority,
        last_seq=conv.last_seq,
        created_at=conv.created_at,
        last_activity_at=conv.last_activity_at,
    )


def stored_of(msg: Message) -> StoredMessage:
    return StoredMessage(
        seq=msg.seq,
        sender=msg.sender,
        text=msg.text,
        buttons=list(msg.buttons or []),
        citations=list(msg.citations or []),
        custom=dict(msg.custom or {}),
        created_at=msg.created_at,
        client_msg_id=msg.client_msg_id,
    )


class StateConflict(RuntimeError):
    """The conversation was not in the expected state (someone else changed it first)."""

    def __init__(self, current: ConversationInfo) -> None:
        super().__init__(f"conversation {current.id} is {current.state}")
        self.current = current


def message_values(
    conversation_id: str, seq: int, message: OutgoingMessage, now: datetime, client_msg_id: str | None = None
) -> dict[str, Any]:
    """The columns of a message about to be stored with sequence number ``seq``."""
    return {
        "conversation_id": conversation_id,
        "seq": seq,
        "sender": message.sender,
        "text": message.text,
        "buttons": list(message.buttons),
        "citations": list(message.citations),
        "custom": dict(message.custom),
        "client_msg_id": client_msg_id,
        "agent_id": message.agent_id,
        "created_at": now,
    }
