"""Private notes on a conversation: written and read by staff only.

A note is not a message: it has its own table, so it never takes a sequence number, never
reaches the hub's conversation topic (the customer's WebSocket, Telegram, WeChat) and is not in
the customer's transcript. The console hears only that a note was added, not its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.agents.actor import Invalid
from gateway.agents.disclosure import shown
from gateway.agents.tools_models import ConversationNote
from kefu.db import retry_when_locked, session_scope

MAX_NOTE = 2000


@dataclass(frozen=True)
class NoteView:
    id: int
    conversation_id: str
    author: str
    text: str
    created_at: datetime

    def for_role(self, role: str) -> dict[str, Any]:
        return {**self.__dict__, "text": shown(self.text, role), "created_at": self.created_at.isoformat()}


class Notes:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @retry_when_locked()
    def add(self, conversation_id: str, author: str, text: str) -> NoteView:
        body = (text or "").strip()
        if not body:
            raise Invalid("empty_note", "备注不能为空", "A note must not be empty")
        if len(body) > MAX_NOTE:
            raise Invalid(
                "note_too_long", "备注过长，请控制在 2000 字以内", "A note has at most 2000 characters"
            )
        row = ConversationNote(
            conversation_id=conversation_id, author=author, text=body, created_at=datetime.now(UTC)
        )
        with session_scope(self._sessions) as session:
            session.add(row)
            session.flush()
            return NoteView(row.id, row.conversation_id, row.author, row.text, row.created_at)

    def of(self, conversation_id: str) -> list[NoteView]:
        """Oldest first."""
        with session_scope(self._sessions) as session:
            rows = session.scalars(
                select(ConversationNote)
                .where(ConversationNote.conversation_id == conversation_id)
                .order_by(ConversationNote.id)
            ).all()
            return [NoteView(r.id, r.conversation_id, r.author, r.text, r.created_at) for r in rows]
