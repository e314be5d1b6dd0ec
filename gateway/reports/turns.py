"""Records each bot turn (what Rasa understood, whether the answer quoted the KB) for the reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from gateway.reports.models import BotTurn
from kefu.db import retry_when_locked, session_scope

MAX_INTENT = 64


class TurnLog:
    def __init__(
        self, session_factory: sessionmaker[Session], *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._sessions = session_factory
        self._clock = clock or (lambda: datetime.now(UTC))

    @retry_when_locked()
    def record(
        self,
        conversation_id: str,
        channel: str,
        *,
        intent: str | None,
        confidence: float | None,
        kb_answer: bool,
    ) -> None:
        with session_scope(self._sessions) as session:  # a Core insert: one per bot turn
            session.execute(
                insert(BotTurn).values(
                    conversation_id=conversation_id,
                    channel=channel,
                    at=self._clock(),
                    intent=intent[:MAX_INTENT] if intent else None,
                    confidence=confidence,
                    kb_answer=kb_answer,
                )
            )
