"""Tables of the agents' tools: canned responses, private notes, labels, availability and capacity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models import utcnow
from kefu.db import Base, UtcDateTime


class CannedResponse(Base):
    """A reply an agent inserts by its shortcut (``/退费``); supervisors write them."""

    __tablename__ = "gateway_canned_response"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shortcut: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ConversationNote(Base):
    """A private note on a conversation: staff only, never a message (so never sent anywhere)."""

    __tablename__ = "gateway_conversation_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LabelLink(Base):
    """A label on a conversation or a ticket (``kind``)."""

    __tablename__ = "gateway_label_link"
    __table_args__ = (UniqueConstraint("kind", "target_id", "label", name="uq_gateway_label_link"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # conversation | ticket
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(32), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AgentAvailability(Base):
    """What an agent said they are (online / busy / away) and how many chats they may be given."""

    __tablename__ = "gateway_agent_availability"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="online")
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)  # None: the default setting
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
