"""A known history in a real (migrated) SQLite database, the figures of which the tests know exactly.

Report day: 2026-11-30 in Asia/Shanghai, i.e. 2026-11-29 16:00 – 2026-11-30 16:00 UTC.
``T`` is 10:00 local; ``NOW`` (the clock the reports read at) is 20:00 local the same day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gateway.agents.models import Handoff
from gateway.models import Conversation, Message
from gateway.reports.models import BotTurn
from kefu.db import session_scope
from tickets.models import Incident, Ticket

DAY = "2026-11-30"
T = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
NOW = T + timedelta(hours=10)
S = timedelta(seconds=1)
H = timedelta(hours=1)


def _conversation(
    session: Session,
    cid: str,
    channel: str,
    at: datetime,
    messages: list[tuple[str, datetime]],
    handoff: datetime | None = None,
) -> None:
    """``handoff``: when its first handoff was requested (the gateway stores it with the handoff)."""
    session.add(
        Conversation(
            id=cid,
            channel=channel,
            created_at=at,
            last_activity_at=at,
            last_seq=len(messages),
            first_handoff_at=handoff,
        )
    )
    session.flush()
    for seq, (sender, when) in enumerate(messages, start=1):
        session.add(Message(conversation_id=cid, seq=seq, sender=sender, text="…", created_at=when))


def _turns(session: Session, cid: str, channel: str, at: datetime, turns: list[tuple[str, bool]]) -> None:
    for i, (intent, kb) in enumerate(turns):
        session.add(
            BotTurn(
                conversation_id=cid,
                channel=channel,
                at=at + i * S,
                intent=intent,
                confidence=0.9,
                kb_answer=kb,
            )
        )


def _ticket(session: Session, tid: str, **fields: Any) -> None:
    created = fields.pop("created_at", T)
    values: dict[str, Any] = {
        "id": tid,
        "category": "fault",
        "type": "broadband_down",
        "severity": "III",
        "priority": 3,
        "status": "new",
        "department": "network_ops",
        "assignee": None,
        "phone": "13800000000",
        "channel": "web",
        "conversation_id": None,
        "district": None,
        "description": "…",
        "details": {},
        "created_at": created,
        "updated_at": created,
        "first_response_due_at": created + H,
        "due_at": created + 24 * H,
        "sla_started_at": created,
        "paused_seconds": 0,
        "overdue": False,
    }
    values.update(fields)
    session.add(Ticket(**values))


def build(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        # c0: the day before (outside the period), handed off.
        _conversation(s, "c0", "web", T - 24 * H, [("customer", T - 24 * H)], T - 24 * H)
        s.add(Handoff(conversation_id="c0", reason="fallback", requested_at=T - 24 * H))
        _turns(s, "c0", "web", T - 24 * H, [("faq_question", True)])
        # c1 (web, 10:00): the bot alone; a KB answer the customer says did not solve it.
        _conversation(s, "c1", "web", T, [("customer", T), ("bot", T + S)])
        _turns(s, "c1", "web", T, [("ask_tariff", False), ("faq_question", True), ("deny", False)])
        # c6 (wechat, 10:00): the bot alone; a KB answer that helped.
        _conversation(s, "c6", "wechat", T, [("customer", T)])
        _turns(s, "c6", "wechat", T, [("faq_question", True), ("affirm", False)])
        # c2 (web, 11:00): asked for a person after two fallbacks; claimed after 60 s, answered after 120 s.
        c2 = T + H
        _conversation(s, "c2", "web", c2, [("customer", c2), ("agent", c2 + 180 * S)], c2 + 60 * S)
        s.add(
            Handoff(
                conversation_id="c2",
                reason="request_human",
                requested_at=c2 + 60 * S,
                claimed_by="alice",
                claimed_at=c2 + 120 * S,
                first_agent_reply_at=c2 + 180 * S,  # as stored with the agent's message
            )
        )
        _turns(s, "c2", "web", c2, [("nlu_fallback", False), ("nlu_fallback", False)])
        # c3 (telegram, 12:00): fallback handoff; claimed after 300 s, answered after 400 s.
        c3 = T + 2 * H
        _conversation(s, "c3", "telegram", c3, [("customer", c3), ("agent", c3 + 400 * S)], c3)
        s.add(
            Handoff(
                conversation_id="c3",
                reason="fallback",
                requested_at=c3,
                claimed_by="bob",
                claimed_at=c3 + 300 * S,
                first_agent_reply_at=c3 + 400 * S,
            )
        )
        _turns(s, "c3", "telegram", c3, [("faq_question", True)])
        # c4 (web, 12:00): escalation, never claimed.
        _conversation(s, "c4", "web", c3, [("customer", c3)], c3)
        s.add(Handoff(conversation_id="c4", reason="escalation", requested_at=c3))

        s.add_all(
            [
                Incident(
                    id="IN1",
                    district="朝阳区",
                    status="open",
                    title="断网",
                    created_at=T,
                    expected_fix_at=T + H,
                ),
                Incident(
                    id="IN2",
                    district="朝阳区",
                    status="resolved",
                    title="断网",
                    created_at=T,
                    expected_fix_at=T + H,
                    resolved_at=T + H,
                ),
                Incident(
                    id="IN3",
                    district="海淀区",
                    status="open",
                    title="断网",
                    created_at=T,
                    expected_fix_at=T + H,
                ),
                Incident(
                    id="IN0",
                    district="海淀区",
                    status="open",
                    title="旧",
                    created_at=T - 48 * H,
                    expected_fix_at=T,
                ),
            ]
        )
        s.flush()
        # Met: closed in time, rated 5 by the customer (alice).
        _ticket(
            s,
            "t1",
            severity="II",
            status="closed",
            resolved_at=T + 2 * H,
            closed_at=T + 3 * H,
            assignee="alice",
            rating=5,
            rated_at=T + 3 * H,
        )
        # Breached: flagged overdue while open, part of incident IN1.
        _ticket(
            s,
            "t2",
            severity="II",
            status="in_progress",
            overdue=True,
            overdue_at=T + 5 * H,
            incident_id="IN1",
        )
        # Breached: resolved after its due time, rated 2 (bob).
        _ticket(
            s,
            "t3",
            category="complaint",
            severity="I",
            department="customer_service",
            status="resolved",
            due_at=T + H,
            resolved_at=T + 2 * H,
            assignee="bob",
            rating=2,
            rated_at=T + 3 * H,
        )
        # At risk: open, due 2 h after NOW.
        _ticket(s, "t4", category="business", department="billing", status="assigned", due_at=NOW + 2 * H)
        # On track: due in 48 h; and one waiting for the customer (its clock is paused) due in 1 h.
        _ticket(s, "t5", category="business", department="billing", status="assigned", due_at=NOW + 48 * H)
        _ticket(s, "t8", category="business", department="billing", status="waiting_customer", due_at=NOW + H)
        # Cancelled: counted as opened, not judged for the SLA.
        _ticket(s, "t6", category="inquiry", severity="IV", department="customer_service", status="cancelled")
        # Telegram: met, rated 4 (alice), part of incident IN3.
        _ticket(
            s,
            "t7",
            channel="telegram",
            department="field_service",
            status="closed",
            resolved_at=T + H,
            assignee="alice",
            rating=4,
            rated_at=T + 2 * H,
            incident_id="IN3",
        )
        # Opened two days before, rated in the period (unassigned): counts for CSAT only.
        _ticket(
            s, "t0", created_at=T - 48 * H, status="closed", resolved_at=T - 47 * H, rating=3, rated_at=T + H
        )
