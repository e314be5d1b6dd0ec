"""Each stay of a conversation with the humans (``gateway_handoff``), and its queue priority.

The conversation row says who answers now; this log says why it came to the queue, who took
it, how it ended, and which ticket an after-hours message became.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.agents.models import Handoff
from gateway.models import Conversation
from kefu.db import retry_when_locked, session_scope


@dataclass(frozen=True)
class HandoffView:
    id: int
    conversation_id: str
    reason: str
    note: str
    priority: int
    after_hours: bool
    requested_at: datetime
    claimed_by: str | None
    ended_at: datetime | None
    outcome: str | None
    ticket_id: str | None


def _view(row: Handoff) -> HandoffView:
    return HandoffView(
        row.id,
        row.conversation_id,
        row.reason,
        row.note,
        row.priority,
        row.after_hours,
        row.requested_at,
        row.claimed_by,
        row.ended_at,
        row.outcome,
        row.ticket_id,
    )


def _first(now: datetime) -> Any:
    """The conversation's first handoff time: kept once set."""
    return func.coalesce(Conversation.first_handoff_at, now)


def note_agent_reply(session: Session, conversation_id: str, at: datetime) -> None:
    """An agent message of the conversation stored at ``at`` (in the caller's transaction): the
    first agent reply of each of its handoffs requested at or before then that has none yet, or a
    later one (two messages committed out of order), so it is always the earliest."""
    session.execute(
        update(Handoff)
        .where(
            Handoff.conversation_id == conversation_id,
            Handoff.requested_at <= at,
            or_(Handoff.first_agent_reply_at.is_(None), Handoff.first_agent_reply_at > at),
        )
        .values(first_agent_reply_at=at)
        .execution_options(synchronize_session=False)
    )


class HandoffLog:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @retry_when_locked()
    def open(
        self, conversation_id: str, *, reason: str, note: str, priority: int, after_hours: bool
    ) -> HandoffView:
        """Record a new stay in the queue and give the conversation its queue priority."""
        now = datetime.now(UTC)
        with session_scope(self._sessions) as session:
            self._close_open(session, conversation_id, now, "superseded")
            row = Handoff(
                conversation_id=conversation_id,
                reason=reason[:64],
                note=note[:1000],
                priority=priority,
                after_hours=after_hours,
                requested_at=now,
            )
            session.add(row)
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(priority=priority, first_handoff_at=_first(now))
            )
            session.flush()
            return _view(row)

    @retry_when_locked()
    def raise_priority(self, conversation_id: str, *, reason: str, note: str, priority: int) -> None:
        """A queued conversation became more urgent (e.g. the customer now threatens to escalate)."""
        with session_scope(self._sessions) as session:
            row = self._current(session, conversation_id)
            if row is not None and priority > row.priority:
                row.priority, row.reason = priority, reason
                row.note = (row.note + "；" + note).strip("；")[:1000]
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.priority < priority)
                .values(priority=priority)
            )

    def current(self, conversation_id: str) -> HandoffView | None:
        with session_scope(self._sessions) as session:
            row = self._current(session, conversation_id)
            return _view(row) if row else None

    @retry_when_locked()
    def claimed(self, conversation_id: str, agent: str) -> None:
        with session_scope(self._sessions) as session:
            row = self._current(session, conversation_id)
            now = datetime.now(UTC)
            if row is None:  # taken over from the bot without a queue stay
                row = Handoff(
                    conversation_id=conversation_id,
                    reason="agent_takeover",
                    note="",
                    priority=0,
                    after_hours=False,
                    requested_at=now,
                )
                session.add(row)
                session.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id)
                    .values(first_handoff_at=_first(now))
                )
            row.claimed_by = agent
            row.claimed_at = datetime.now(UTC)

    @retry_when_locked()
    def ended(self, conversation_id: str, outcome: str) -> None:
        with session_scope(self._sessions) as session:
            self._close_open(session, conversation_id, datetime.now(UTC), outcome)
            session.execute(update(Conversation).where(Conversation.id == conversation_id).values(priority=0))

    @retry_when_locked()
    def set_ticket(self, handoff_id: int, ticket_id: str) -> None:
        with session_scope(self._sessions) as session:
            session.execute(update(Handoff).where(Handoff.id == handoff_id).values(ticket_id=ticket_id))

    @staticmethod
    def _current(session: Session, conversation_id: str) -> Handoff | None:
        return session.scalars(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None))
            .order_by(Handoff.id.desc())
            .limit(1)
        ).first()

    @staticmethod
    def _close_open(session: Session, conversation_id: str, now: datetime, outcome: str) -> None:
        session.execute(
            update(Handoff)
            .where(Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None))
            .values(ended_at=now, outcome=outcome)
        )
