"""Conversations and their messages, as the gateway stores them.

The gateway is the single writer of these tables, so the message sequence of a
conversation is allocated here and nowhere else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Conversation(Base):
    __tablename__ = "gateway_conversation"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), default="web")
    channel_user_id: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    # Who answers the customer now: "bot", "queue" (waiting for an agent) or "agent".
    state: Mapped[str] = mapped_column(String(16), default="bot", index=True)
    assigned_agent: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    handoff_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Telegram/WeChat: the highest seq the platform accepted (or the passive reply carried); what
    # lies above it is sent again after a gateway restart.
    delivered_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # When its first handoff was stored (``gateway.agents.handoffs``): the reports' containment.
    first_handoff_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class Message(Base):
    __tablename__ = "gateway_message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_gateway_message_seq"),
        UniqueConstraint("conversation_id", "client_msg_id", name="uq_gateway_message_client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("gateway_conversation.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16))  # customer | bot | agent | system
    text: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set by clients that retry (web chat reconnects): the same id is stored once.
    client_msg_id: Mapped[str | None] = mapped_column(String(64), default=None)
    agent_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
