"""Figures read from the gateway's conversations, messages, handoffs and bot turns.

Each function is the one definition of its figure (the ``definition`` text says how it counts).
A conversation belongs to the period it was started in; a handoff, message or bot turn to the
period it happened in. The additive counts (conversations, messages, bot turns) come as
``Counts`` from ``gateway.reports.rollups``: roll-up rows for closed hours, stored rows for the rest.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, func, select
from sqlalchemy.orm import Session

from gateway.agents.models import Handoff
from gateway.agents.policy import reason_for
from gateway.models import Conversation
from gateway.reports.models import FALLBACK_INTENT
from gateway.reports.query import ReportQuery, percentile, rate
from gateway.reports.rollups import Counts
from gateway.reports.table import Figure

TOP_INTENTS = 10


def total(counts: Counts, metric: str, key: str = "") -> int:
    return sum(n for (m, k, _), n in counts.items() if m == metric and k == key)


def _handoffs(q: ReportQuery, *columns: Any) -> Select[Any]:
    stmt = select(*columns).where(Handoff.requested_at >= q.start, Handoff.requested_at < q.end)
    if q.channel:
        stmt = stmt.join(Conversation, Conversation.id == Handoff.conversation_id).where(
            Conversation.channel == q.channel
        )
    return stmt


def containment(session: Session, q: ReportQuery, counts: Counts) -> Figure:
    started = total(counts, "conversations")
    humans = select(func.count()).where(
        Conversation.created_at >= q.start,
        Conversation.created_at < q.end,
        Conversation.first_handoff_at.is_not(None),  # it has a handoff (gateway.agents.handoffs)
    )
    if q.channel:
        humans = humans.where(Conversation.channel == q.channel)
    with_human = int(session.scalar(humans) or 0)
    contained = started - with_human
    return Figure(
        "containment",
        "机器人独立解决率",
        "Conversations started in the period that never went to the human queue, over all started.",
        ("outcome", "conversations"),
        [("bot_only", contained), ("with_human", with_human)],
        {
            "conversations": started,
            "contained": contained,
            "with_human": with_human,
            "rate": rate(contained, started),
        },
    )


def handoffs_by_reason(session: Session, q: ReportQuery, counts: Counts) -> Figure:
    started = total(counts, "conversations")
    by_reason = session.execute(
        _handoffs(q, Handoff.reason, func.count())
        .group_by(Handoff.reason)
        .order_by(func.count().desc(), Handoff.reason)
    ).all()
    rows = [(reason, reason_for(reason).label, int(n), rate(int(n), started)) for reason, n in by_reason]
    handoffs = sum(r[2] for r in rows)
    return Figure(
        "handoffs",
        "转人工原因",
        "Handoffs requested in the period by reason; rate = handoffs over conversations started.",
        ("reason", "label", "handoffs", "rate"),
        rows,
        {"handoffs": handoffs, "conversations": started, "rate": rate(handoffs, started)},
    )


def queue_wait(session: Session, q: ReportQuery) -> Figure:
    """Seconds from the request to the claim, and to the first agent message after the request
    (stored on the handoff as the message is: ``gateway.agents.handoffs.note_agent_reply``)."""
    first_reply = Handoff.first_agent_reply_at
    if session.get_bind().dialect.name == "sqlite":
        # Whole microseconds in SQL (the stored text is 'YYYY-MM-DD HH:MM:SS.ffffff'): the same
        # exact values as Python's timedelta, without parsing every datetime in Python.
        def micros(column: Any) -> Any:
            seconds = func.cast(func.strftime("%s", column), Integer)
            return seconds * 1_000_000 + func.cast(func.substr(column, 21, 6), Integer)

        start = micros(Handoff.requested_at)
        spans = _handoffs(q, micros(Handoff.claimed_at) - start, micros(first_reply) - start)
        rows = session.execute(spans).all()
        handed = len(rows)
        waits = [c / 1_000_000 for c, _ in rows if c is not None]
        replies = [f / 1_000_000 for _, f in rows if f is not None]
    else:
        found = session.execute(_handoffs(q, Handoff.requested_at, Handoff.claimed_at, first_reply)).all()
        handed = len(found)
        waits = [(c - r).total_seconds() for r, c, _ in found if c is not None]
        replies = [(f - r).total_seconds() for r, _, f in found if f is not None]
    summary = {
        "handoffs": handed,
        "claimed": len(waits),
        "unclaimed": handed - len(waits),
        "wait_p50_s": percentile(waits, 50),
        "wait_p90_s": percentile(waits, 90),
        "first_response_p50_s": percentile(replies, 50),
        "first_response_p90_s": percentile(replies, 90),
        "answered": len(replies),
    }
    return Figure(
        "queue_wait",
        "排队等待与首次响应",
        "Per handoff requested in the period: seconds until an agent claimed it, and until the "
        "first agent message after the request (nearest-rank p50/p90).",
        ("measure", "p50_s", "p90_s", "count"),
        [
            ("queue_wait", summary["wait_p50_s"], summary["wait_p90_s"], len(waits)),
            (
                "first_response",
                summary["first_response_p50_s"],
                summary["first_response_p90_s"],
                len(replies),
            ),
        ],
        summary,
    )


def per_hour(q: ReportQuery, counts: Counts) -> Figure:
    """Counts by local hour of day, plus the average per hour of the whole period."""
    shift = q.utc_offset_hours
    by_hour: dict[int, list[int]] = {h: [0, 0] for h in range(24)}
    for (metric, _, utc_hour), n in counts.items():
        if metric in ("conversations", "messages"):
            by_hour[(utc_hour + shift) % 24][1 if metric == "messages" else 0] += n
    conversations = sum(v[0] for v in by_hour.values())
    messages = sum(v[1] for v in by_hour.values())
    hours = q.hours
    return Figure(
        "per_hour",
        "每小时会话量与消息量",
        "Conversations started and messages sent, by local hour of day; "
        "averages over every hour of the period.",
        ("hour", "conversations", "messages"),
        [(h, v[0], v[1]) for h, v in sorted(by_hour.items())],
        {
            "conversations": conversations,
            "messages": messages,
            "conversations_per_hour": round(conversations / hours, 2) if hours else None,
            "messages_per_hour": round(messages / hours, 2) if hours else None,
        },
    )


def intents(counts: Counts) -> Figure:
    by_intent: dict[str, int] = {}
    for (metric, key, _), n in counts.items():
        if metric == "intent":
            by_intent[key] = by_intent.get(key, 0) + n
    ordered = sorted(by_intent.items(), key=lambda kv: (-kv[1], kv[0]))
    turns = sum(by_intent.values())
    fallback = by_intent.get(FALLBACK_INTENT, 0)
    return Figure(
        "intents",
        "热门意图与兜底率",
        f"Bot turns in the period by the intent Rasa recognised (top {TOP_INTENTS}); "
        f"fallback rate = {FALLBACK_INTENT} turns over turns with an intent.",
        ("intent", "turns", "share"),
        [(name, n, rate(n, turns)) for name, n in ordered[:TOP_INTENTS]],
        {"turns": turns, "fallback": fallback, "fallback_rate": rate(fallback, turns)},
    )


def kb_answers(counts: Counts) -> Figure:
    turns, kb, unsolved = (total(counts, m) for m in ("turns", "kb_answers", "not_solved"))
    return Figure(
        "kb_answers",
        "知识库回答率与「没解决」率",
        "KB answer rate = bot turns quoting the knowledge base over all bot turns; 「没解决」 rate = "
        "deny turns (the 没解决 button) in the period whose previous bot turn in the conversation "
        "quoted the KB, over KB answers.",
        ("measure", "count", "rate"),
        [("kb_answer", kb, rate(kb, turns)), ("not_solved", unsolved, rate(unsolved, kb))],
        {
            "turns": turns,
            "kb_answers": kb,
            "kb_answer_rate": rate(kb, turns),
            "not_solved": unsolved,
            "not_solved_rate": rate(unsolved, kb),
        },
    )
