"""Figures read from the ticket tables: volume, SLA compliance, customer ratings, incidents.

A ticket belongs to the period it was opened in (a rating to the period it was given in, an
incident to the period it was declared in). Labels come from the ticket rules, never copied.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from gateway.reports.query import ReportQuery, rate
from gateway.reports.table import Figure
from tickets.models import Incident, Ticket
from tickets.rules import CATEGORY_LABELS, DEPARTMENT_LABELS, SEVERITY_LABELS, Category, Department, Severity
from tickets.state_machine import OPEN_STATUSES, Status

SCORES = (1, 2, 3, 4, 5)
UNASSIGNED = "（未分配）"


def _tickets(q: ReportQuery, *columns: Any) -> Select[Any]:
    stmt = select(*columns).where(Ticket.created_at >= q.start, Ticket.created_at < q.end)
    return stmt.where(Ticket.channel == q.channel) if q.channel else stmt


def _label(table: dict[Any, str], enum: Any, code: str) -> str:
    try:
        return table[enum(code)]
    except ValueError:
        return code


def tickets_opened(session: Session, q: ReportQuery) -> Figure:
    counts = session.execute(
        _tickets(q, Ticket.category, Ticket.severity, func.count())
        .group_by(Ticket.category, Ticket.severity)
        .order_by(Ticket.category, Ticket.severity)
    ).all()
    rows = [
        (c, _label(CATEGORY_LABELS, Category, c), s, _label(SEVERITY_LABELS, Severity, s), int(n))
        for c, s, n in counts
    ]
    by_category: dict[str, int] = defaultdict(int)
    by_severity: dict[str, int] = defaultdict(int)
    for c, _, s, _, n in rows:
        by_category[c] += n
        by_severity[s] += n
    return Figure(
        "tickets",
        "工单量（类别 × 等级）",
        "Tickets opened in the period by category and severity.",
        ("category", "category_label", "severity", "severity_label", "tickets"),
        rows,
        {
            "tickets": sum(by_category.values()),
            "by_category": dict(by_category),
            "by_severity": dict(by_severity),
        },
    )


def sla_by_department(session: Session, q: ReportQuery, at_risk_within: timedelta) -> Figure:
    """Each ticket opened in the period, judged at ``q.now``.

    breached: flagged overdue (a deadline passed while it was open) or resolved after its due time;
    met: resolved (or closed) in time; at risk: still open, not breached, due within
    ``at_risk_within``; on track: the other open ones. Cancelled tickets are not judged.
    """
    open_codes = [s.value for s in OPEN_STATUSES]
    late = and_(Ticket.resolved_at.is_not(None), Ticket.resolved_at > Ticket.due_at)
    due_soon = and_(Ticket.status != Status.WAITING_CUSTOMER.value, Ticket.due_at <= q.now + at_risk_within)
    verdict = case(
        (or_(Ticket.overdue.is_(True), late), "breached"),
        (Ticket.status.not_in(open_codes), "met"),
        (due_soon, "at_risk"),  # includes past due but not yet flagged by the overdue pass
        else_="on_track",
    )
    counted = session.execute(
        _tickets(q, Ticket.department, verdict, func.count())
        .where(Ticket.status != Status.CANCELLED.value)
        .group_by(Ticket.department, verdict)
    ).all()
    counts: dict[str, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("met", "breached", "at_risk", "on_track"), 0)
    )
    for department, judged, n in counted:
        counts[department][judged] += int(n)
    table = [
        (
            d,
            _label(DEPARTMENT_LABELS, Department, d),
            c["met"],
            c["breached"],
            c["at_risk"],
            c["on_track"],
            rate(c["met"], c["met"] + c["breached"]),
        )
        for d, c in sorted(counts.items())
    ]
    met = sum(r[2] for r in table)
    breached = sum(r[3] for r in table)
    return Figure(
        "sla",
        "各部门 SLA 达成情况",
        "Tickets opened in the period: met / breached / at risk (open, due within "
        f"{at_risk_within.total_seconds() / 3600:g} h) / on track; compliance = met over met + breached.",
        ("department", "department_label", "met", "breached", "at_risk", "on_track", "compliance"),
        table,
        {
            "met": met,
            "breached": breached,
            "at_risk": sum(r[4] for r in table),
            "on_track": sum(r[5] for r in table),
            "compliance": rate(met, met + breached),
        },
    )


def csat(session: Session, q: ReportQuery) -> Figure:
    stmt = select(Ticket.assignee, Ticket.rating).where(
        Ticket.rated_at >= q.start, Ticket.rated_at < q.end, Ticket.rating.is_not(None)
    )
    if q.channel:
        stmt = stmt.where(Ticket.channel == q.channel)
    ratings = session.execute(stmt).all()
    scores = [int(r) for _, r in ratings]
    per_agent: dict[str, list[int]] = defaultdict(list)
    for assignee, score in ratings:
        per_agent[assignee or UNASSIGNED].append(int(score))
    distribution = {str(s): scores.count(s) for s in SCORES}
    return Figure(
        "csat",
        "客户满意度",
        "Ratings (1–5) given in the period to resolved tickets, overall and by the ticket's assignee.",
        ("agent", "ratings", "average", *(f"score_{s}" for s in SCORES)),
        [
            (agent, len(v), round(sum(v) / len(v), 2), *(v.count(s) for s in SCORES))
            for agent, v in sorted(per_agent.items())
        ],
        {
            "ratings": len(scores),
            "average": round(sum(scores) / len(scores), 2) if scores else None,
            "distribution": distribution,
        },
    )


def incidents_by_district(session: Session, q: ReportQuery) -> Figure:
    """Every channel: an incident is an area outage, not a conversation."""
    linked = (
        select(func.count()).where(Ticket.incident_id == Incident.id).correlate(Incident).scalar_subquery()
    )
    rows = session.execute(
        select(Incident.district, Incident.status, linked).where(
            Incident.created_at >= q.start, Incident.created_at < q.end
        )
    ).all()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for district, status, tickets in rows:
        counts[district][0] += 1
        counts[district][1] += int(status == "open")
        counts[district][2] += int(tickets)
    table = [(d, *c) for d, c in sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))]
    return Figure(
        "incidents",
        "各区域故障事件",
        "Area outages declared in the period by district: incidents, still open, tickets linked.",
        ("district", "incidents", "open", "tickets"),
        table,
        {"incidents": len(rows), "open": sum(r[2] for r in table)},
    )
