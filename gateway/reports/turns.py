"""Records each bot turn (what Rasa understood, whether the answer quoted the KB) for the reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Connection, Table, insert

from gateway.conversation_types import ConversationInfo
from gateway.message_rows import RowWriter
from gateway.rasa_reply import BotReply
from gateway.reports.models import BotTurn

MAX_INTENT = 64
_INSERT = insert(cast(Table, BotTurn.__table__))


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class TurnLog:
    """One row per answer Rasa gave, written in the transaction that stores the reply (the router's
    ``reply_writers``), so a bot turn costs the gateway no transaction of its own."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))

    def row(self, conv: ConversationInfo, reply: BotReply) -> RowWriter:
        nlu = reply.nlu or {}
        intent = nlu.get("intent")
        values = {
            "conversation_id": conv.id,
            "channel": conv.channel,
            "at": self._clock(),
            "intent": intent[:MAX_INTENT] if isinstance(intent, str) and intent else None,
            "confidence": _float(nlu.get("confidence")),
            "kb_answer": any(m.citations for m in reply.messages),
        }

        def write(conn: Connection) -> None:
            conn.execute(_INSERT, values)

        return write
