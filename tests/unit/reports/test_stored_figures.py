"""What the reports read stored where it happens is their definition, both as the gateway stores
messages and handoffs and as the migrations fill it in for what was stored before them: each
handoff's first agent response — the first agent message of the conversation at or after the
request (gw0008) — and each conversation's first handoff, for containment (gw0009)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.agents.handoffs import HandoffLog
from gateway.agents.models import Handoff
from gateway.conversations import ConversationStore, OutgoingMessage
from gateway.models import Conversation, Message
from kefu.db import alembic_config, make_engine, make_session_factory, upgrade_database

T = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def by_definition(session: Session) -> dict[int, datetime | None]:
    """Each handoff's first agent message at or after its request, looked up in the messages."""
    first = (
        select(Message.created_at)
        .where(
            Message.conversation_id == Handoff.conversation_id,
            Message.sender == "agent",
            Message.created_at >= Handoff.requested_at,
        )
        .order_by(Message.created_at)
        .limit(1)
        .correlate(Handoff)
        .scalar_subquery()
    )
    return {i: at for i, at in session.execute(select(Handoff.id, first).order_by(Handoff.id)).all()}


def first_handoffs(session: Session) -> dict[str, tuple[datetime | None, datetime | None]]:
    """Each conversation's stored first handoff, and its earliest handoff row."""
    earliest = (
        select(func.min(Handoff.requested_at))
        .where(Handoff.conversation_id == Conversation.id)
        .correlate(Conversation)
        .scalar_subquery()
    )
    rows = session.execute(select(Conversation.id, Conversation.first_handoff_at, earliest)).all()
    return {cid: (at, first) for cid, at, first in rows}


def stored(session: Session) -> dict[int, datetime | None]:
    return {
        i: at
        for i, at in session.execute(
            select(Handoff.id, Handoff.first_agent_reply_at).order_by(Handoff.id)
        ).all()
    }


def test_agent_messages_and_handoffs_store_what_the_reports_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    upgrade_database(url)
    factory: sessionmaker[Session] = make_session_factory(make_engine(url))
    store, log = ConversationStore(factory), HandoffLog(factory)

    def say(cid: str, sender: str) -> datetime:
        message, _ = store.append(cid, OutgoingMessage(sender=sender, text="…"))
        assert message.created_at is not None
        return message.created_at

    def handoff(cid: str, reason: str) -> int:
        return log.open(cid, reason=reason, note="", priority=0, after_hours=False).id

    cid, other, bot_only, taken = (store.create().id for _ in range(4))
    say(cid, "customer")
    say(bot_only, "customer")
    first = handoff(cid, "request_human")
    log.claimed(cid, "alice")
    answer = say(cid, "agent")
    say(cid, "agent")  # a later message changes nothing
    log.ended(cid, "released")
    # Back to the bot, then to the queue twice: the agent's earlier messages do not count.
    say(cid, "customer")
    superseded = handoff(cid, "fallback")
    again = handoff(cid, "escalation")
    say(cid, "bot")
    unanswered = handoff(other, "request_human")  # its conversation never hears from an agent
    later = say(cid, "agent")
    log.claimed(taken, "bob")  # taken over from the bot without a queue stay
    takeover = log.current(taken)
    assert takeover is not None

    with factory() as session:
        assert stored(session) == {
            first: answer,
            superseded: later,
            again: later,
            unanswered: None,
            takeover.id: None,
        }
        assert stored(session) == by_definition(session)
        handed = first_handoffs(session)
        requested = dict(session.execute(select(Handoff.id, Handoff.requested_at)).all())
    assert handed[cid] == (requested[first], requested[first])  # the later handoffs keep the first
    assert handed[other][0] == requested[unanswered]
    assert handed[taken][0] == takeover.requested_at
    assert handed[bot_only] == (None, None)
    assert all(at == earliest for at, earliest in handed.values())


def _text(at: datetime) -> str:
    """How the gateway's SQLite tables store a time."""
    return at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def test_the_migrations_fill_in_what_was_stored_before_them(tmp_path: Path) -> None:
    path = tmp_path / "kefu.db"
    url = f"sqlite:///{path}"
    make_engine(url).dispose()
    command.upgrade(alembic_config(url), "gw0007")
    db = sqlite3.connect(path)
    conversations = ["a", "b", "c", "d"]  # d: the bot alone
    db.executemany(
        "INSERT INTO gateway_conversation (id, channel, state, priority, last_seq, created_at, "
        "last_activity_at) VALUES (?, 'web', 'bot', 0, 0, ?, ?)",
        [(c, _text(T), _text(T)) for c in conversations],
    )
    messages = [
        ("a", "agent", T - 10 * S),  # before every request of its conversation
        ("a", "customer", T + 110 * S),
        ("a", "agent", T + 200 * S),
        ("a", "agent", T + 150 * S),  # stored out of order: still the first
        ("b", "agent", T + 5 * S),  # at the request itself: counts
        ("c", "customer", T + 50 * S),
    ]
    db.executemany(
        "INSERT INTO gateway_message (conversation_id, seq, sender, text, buttons, citations, custom, "
        "created_at) VALUES (?, ?, ?, '…', '[]', '[]', '{}', ?)",
        [(c, n, sender, _text(at)) for n, (c, sender, at) in enumerate(messages, start=1)],
    )
    handoffs = [
        ("a", T, T + 60 * S),  # ended before any reply: the next agent message after it counts
        ("a", T + 100 * S, None),
        ("b", T + 5 * S, None),
        ("c", T, None),  # no agent message in its conversation
    ]
    db.executemany(
        "INSERT INTO gateway_handoff (conversation_id, reason, note, priority, after_hours, "
        "requested_at, ended_at) VALUES (?, 'fallback', '', 0, 0, ?, ?)",
        [(c, _text(at), _text(end) if end else None) for c, at, end in handoffs],
    )
    db.commit()
    db.close()

    upgrade_database(url)

    factory: sessionmaker[Session] = make_session_factory(make_engine(url))
    with factory() as session:
        assert list(stored(session).values()) == [T + 150 * S, T + 150 * S, T + 5 * S, None]
        assert stored(session) == by_definition(session)
        handed = first_handoffs(session)
    assert handed == {"a": (T, T), "b": (T + 5 * S, T + 5 * S), "c": (T, T), "d": (None, None)}
