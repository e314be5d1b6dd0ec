"""Figures read from the gateway's conversations, messages, handoffs and bot turns.

Each function is the one definition of its figure (the ``definition`` text says how it counts).
A conversation belongs to the period it was started in; a handoff, message or bot turn to the
period it happened in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from gateway.agents.models import Handoff
from gateway.agents.policy import reason_for
from gateway.models import Conversation, Message
from gateway.reports.models import DENY_INTENT, FALLBACK_INTENT, BotTurn
from gateway.reports.query import ReportQuery, percentile, rate
from gateway.reports.table import Figure

TOP_INTENTS = 10


def _conversation_ids(q: ReportQuery) -> Select[Any]:
    stmt = select(Conversation.id).where(Conversation.created_at >= q.start, Conversation.created_at < q.end)
    return stmt.where(Conversation.channel == q.channel) if q.channel else stmt


def _conversation_count(session: Session, q: ReportQuery) -> int:
    return int(session.scalar(select(func.count()).select_from(_conversation_ids(q).subquery())) or 0)


def _handoffs(q: ReportQuery, *columns: Any) -> Select[Any]:
    stmt = select(*columns).where(Handoff.requested_at >= q.start, Handoff.requested_at < q.end)
    if q.channel:
        stmt = stmt.join(Conversation, Conversation.id == Handoff.conversation_id).where(
            Conversation.channel == q.channel
        )
    return stmt


def containment(session: Session, q: ReportQuery) -> Figure:
    total = _conversation_count(session, q)
    humans = (
        select(func.count(func.distinct(Handoff.conversation_id)))
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Conversation.created_at >= q.start, Conversation.created_at < q.end)
    )
    if q.channel:
        humans = humans.where(Conversation.channel == q.channel)
    with_human = int(session.scalar(humans) or 0)
    contained = total - with_human
    return Figure(
        "containment",
        "机器人独立解决率",
        "Conversations started in the period that never went to the human queue, over all started.",
        ("outcome", "conversations"),
        [("bot_only", contained), ("with_human", with_human)],
        {
            "conversations": total,
            "contained": contained,
            "with_human": with_human,
            "rate": rate(contained, total),
        },
    )


def handoffs_by_reason(session: Session, q: ReportQuery) -> Figure:
    total = _conversation_count(session, q)
    counts = session.execute(
        _handoffs(q, Handoff.reason, func.count())
        .group_by(Handoff.reason)
        .order_by(func.count().desc(), Handoff.reason)
    ).all()
    rows = [(reason, reason_for(reason).label, int(n), rate(int(n), total)) for reason, n in counts]
    handoffs = sum(r[2] for r in rows)
    return Figure(
        "handoffs",
        "转人工原因",
        "Handoffs requested in the period by reason; rate = handoffs over conversations started.",
        ("reason", "label", "handoffs", "rate"),
        rows,
        {"handoffs": handoffs, "conversations": total, "rate": rate(handoffs, total)},
    )


def queue_wait(session: Session, q: ReportQuery) -> Figure:
    """Seconds from the request to the claim, and to the first agent message after the request."""
    first_reply = (
        select(func.min(Message.created_at))
        .where(
            Message.conversation_id == Handoff.conversation_id,
            Message.sender == "agent",
            Message.created_at >= Handoff.requested_at,
        )
        .correlate(Handoff)
        .scalar_subquery()
    )
    rows = session.execute(_handoffs(q, Handoff.requested_at, Handoff.claimed_at, first_reply)).all()
    waits = [(c - r).total_seconds() for r, c, _ in rows if c is not None]
    replies = [(f - r).total_seconds() for r, _, f in rows if f is not None]
    summary = {
        "handoffs": len(rows),
        "claimed": len(waits),
        "unclaimed": len(rows) - len(waits),
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


def per_hour(session: Session, q: ReportQuery) -> Figure:
    """Counts by local hour of day, plus the average per hour of the whole period."""
    hour_c = func.extract("hour", Conversation.created_at)
    conv = _conversation_ids(q).with_only_columns(hour_c, func.count()).group_by(hour_c)
    hour_m = func.extract("hour", Message.created_at)
    msg = (
        select(hour_m, func.count())
        .where(Message.created_at >= q.start, Message.created_at < q.end)
        .group_by(hour_m)
    )
    if q.channel:
        msg = msg.join(Conversation, Conversation.id == Message.conversation_id).where(
            Conversation.channel == q.channel
        )
    shift = q.utc_offset_hours
    by_hour: dict[int, list[int]] = {h: [0, 0] for h in range(24)}
    for index, stmt in ((0, conv), (1, msg)):
        for utc_hour, n in session.execute(stmt).all():
            by_hour[(int(utc_hour) + shift) % 24][index] += int(n)
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


def _turns(q: ReportQuery, *columns: Any) -> Select[Any]:
    stmt = select(*columns).where(BotTurn.at >= q.start, BotTurn.at < q.end)
    return stmt.where(BotTurn.channel == q.channel) if q.channel else stmt


def intents(session: Session, q: ReportQuery) -> Figure:
    counts = session.execute(
        _turns(q, BotTurn.intent, func.count())
        .where(BotTurn.intent.is_not(None))
        .group_by(BotTurn.intent)
        .order_by(func.count().desc(), BotTurn.intent)
    ).all()
    total = sum(int(n) for _, n in counts)
    fallback = sum(int(n) for name, n in counts if name == FALLBACK_INTENT)
    return Figure(
        "intents",
        "热门意图与兜底率",
        f"Bot turns in the period by the intent Rasa recognised (top {TOP_INTENTS}); "
        f"fallback rate = {FALLBACK_INTENT} turns over turns with an intent.",
        ("intent", "turns", "share"),
        [(name, int(n), rate(int(n), total)) for name, n in counts[:TOP_INTENTS]],
        {"turns": total, "fallback": fallback, "fallback_rate": rate(fallback, total)},
    )


def kb_answers(session: Session, q: ReportQuery) -> Figure:
    total, kb = session.execute(
        _turns(q, func.count(), func.coalesce(func.sum(case((BotTurn.kb_answer.is_(True), 1), else_=0)), 0))
    ).one()
    previous = func.lag(BotTurn.kb_answer).over(partition_by=BotTurn.conversation_id, order_by=BotTurn.id)
    turns = _turns(q, BotTurn.intent.label("intent"), previous.label("after_kb")).subquery()
    unsolved = int(
        session.scalar(
            select(func.count()).where(and_(turns.c.intent == DENY_INTENT, turns.c.after_kb.is_(True)))
        )
        or 0
    )
    total, kb = int(total), int(kb)
    return Figure(
        "kb_answers",
        "知识库回答率与「没解决」率",
        "KB answer rate = bot turns quoting the knowledge base over all bot turns; 「没解决」 rate = "
        "turns that deny (the 没解决 button) right after a KB answer, over KB answers.",
        ("measure", "count", "rate"),
        [("kb_answer", kb, rate(kb, total)), ("not_solved", unsolved, rate(unsolved, kb))],
        {
            "turns": total,
            "kb_answers": kb,
            "kb_answer_rate": rate(kb, total),
            "not_solved": unsolved,
            "not_solved_rate": rate(unsolved, kb),
        },
    )
