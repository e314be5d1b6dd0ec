"""Lifecycle: enforced transitions, append-only audit, paused SLA clock, customer actions, ratings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.tickets.conftest import Clock
from tests.unit.tickets.helpers import report_fault
from tickets import (
    InvalidRating,
    InvalidTicketData,
    InvalidTransition,
    NotTicketOwner,
    TicketNotFound,
    TicketService,
)


def test_open_ticket_gives_readable_id_department_deadline_and_masked_phone(
    service: TicketService, clock: Clock
) -> None:
    view = report_fault(service)
    assert view.id == "TK20261123-0001"
    assert (view.category, view.type, view.severity, view.status) == ("fault", "broadband_down", "III", "new")
    assert view.department == "field_service" and view.department_label == "装维服务部"
    assert view.due_at == clock.now + timedelta(hours=48)
    assert view.customer_masked == "138****8000"
    assert "13800138000" not in repr(view)
    assert report_fault(service, "13900139000", district="朝阳区").id == "TK20261123-0002"


def test_open_ticket_rejects_bad_phone_and_empty_description(service: TicketService) -> None:
    with pytest.raises(InvalidTicketData):
        report_fault(service, "12345")
    with pytest.raises(InvalidTicketData):
        report_fault(service, text="  ")


def test_full_lifecycle_records_every_change_in_the_audit_trail(service: TicketService) -> None:
    ticket = report_fault(service)
    service.assign(ticket.id, assignee="zhang.wei", actor="lead", note="片区装维")
    for status in ("in_progress", "waiting_customer", "in_progress", "resolved", "closed"):
        service.change_status(ticket.id, to=status, actor="zhang.wei", note=f"→{status}")
    view = service.get(ticket.id)
    moves = [(e.from_value, e.to_value, e.actor) for e in view.history if e.kind == "status"]
    assert moves == [
        ("new", "assigned", "lead"),
        ("assigned", "in_progress", "zhang.wei"),
        ("in_progress", "waiting_customer", "zhang.wei"),
        ("waiting_customer", "in_progress", "zhang.wei"),
        ("in_progress", "resolved", "zhang.wei"),
        ("resolved", "closed", "zhang.wei"),
    ]
    assert view.history[0].kind == "created" and view.assignee == "zhang.wei"
    assert view.first_responded_at is not None


def test_change_status_invalid_transition_explains_allowed_moves(service: TicketService) -> None:
    ticket = report_fault(service)
    service.change_status(ticket.id, to="cancelled", actor="agent")
    with pytest.raises(InvalidTransition) as err:
        service.change_status(ticket.id, to="in_progress", actor="agent")
    assert "已撤销" in err.value.message_zh and "不能变更为" in err.value.message_zh
    with pytest.raises(InvalidTransition):
        service.change_status(report_fault(service, "13900139000").id, to="closed", actor="agent")


def test_reopened_ticket_gets_a_new_deadline(service: TicketService, clock: Clock) -> None:
    ticket = report_fault(service)
    service.change_status(ticket.id, to="resolved", actor="agent")
    clock.advance(days=3)
    view = service.change_status(ticket.id, to="reopened", actor="agent", note="客户反映仍未恢复")
    assert view.status == "reopened" and view.due_at == clock.now + timedelta(hours=24)


def test_waiting_for_customer_pauses_the_deadline(service: TicketService, clock: Clock) -> None:
    ticket = report_fault(service)
    original_due = ticket.due_at
    clock.advance(hours=2)
    service.change_status(ticket.id, to="waiting_customer", actor="agent", note="请客户确认上门时间")
    clock.advance(hours=30)
    assert service.mark_overdue(clock.now + timedelta(days=5)) == []  # paused tickets are never overdue
    view = service.add_customer_info(ticket_id=ticket.id, phone="13800138000", text="明天上午在家")
    assert view.status == "in_progress"
    assert view.due_at == original_due + timedelta(hours=30)


def test_pause_on_working_day_ticket_moves_deadline_by_the_pause(
    service: TicketService, clock: Clock
) -> None:
    ticket = service.open_ticket(
        category="business", type="装宽带", phone="13800138000", channel="web",
        conversation_id="c1", description="新房装千兆宽带", details={}, district="海淀区",
    )  # fmt: skip
    assert ticket.severity == "II" and ticket.due_at == clock.now + timedelta(days=3)  # Thursday
    service.change_status(ticket.id, to="waiting_customer", actor="agent")
    clock.advance(days=1)  # paused Monday → Tuesday
    view = service.change_status(ticket.id, to="in_progress", actor="agent")
    assert view.due_at == ticket.due_at + timedelta(days=1)  # Friday, same time


def test_customer_cannot_touch_someone_elses_ticket(service: TicketService) -> None:
    ticket = report_fault(service)
    with pytest.raises(NotTicketOwner):
        service.cancel_by_customer(ticket_id=ticket.id, phone="13900139000", reason="误报")
    with pytest.raises(NotTicketOwner):
        service.get(ticket.id, phone="13900139000")
    with pytest.raises(TicketNotFound):
        service.get("TK20200101-0001")
    assert (
        service.cancel_by_customer(ticket_id=ticket.id, phone="13800138000", reason="已恢复").status
        == "cancelled"
    )


def test_list_for_customer_shows_only_own_tickets(service: TicketService) -> None:
    mine = report_fault(service)
    report_fault(service, "13900139000")
    assert [v.id for v in service.list_for_customer("13800138000")] == [mine.id]


def test_rate_resolved_ticket_stores_score_and_closes(service: TicketService) -> None:
    ticket = report_fault(service)
    assert service.pending_rating("13800138000") == []
    with pytest.raises(InvalidRating):
        service.rate(ticket_id=ticket.id, phone="13800138000", score=5)  # not resolved yet
    service.change_status(ticket.id, to="resolved", actor="agent")
    assert [v.id for v in service.pending_rating("13800138000")] == [ticket.id]
    with pytest.raises(InvalidRating):
        service.rate(ticket_id=ticket.id, phone="13800138000", score=6)
    view = service.rate(ticket_id=ticket.id, phone="13800138000", score=4, comment="师傅很准时")
    assert (view.rating, view.rating_comment, view.status) == (4, "师傅很准时", "closed")
    assert service.pending_rating("13800138000") == []
    with pytest.raises(InvalidRating):
        service.rate(ticket_id=ticket.id, phone="13800138000", score=5)


def test_change_severity_recomputes_priority_and_deadline(service: TicketService, clock: Clock) -> None:
    ticket = report_fault(service)
    view = service.change_severity(ticket.id, severity="I", actor="supervisor", note="医院专线")
    assert (view.severity, view.priority) == ("I", 1)
    assert view.due_at == clock.now + timedelta(hours=24)
    assert view.history[-1].kind == "severity" and view.history[-1].from_value == "III"


def test_contact_phone_is_full_and_the_access_is_audited(service: TicketService) -> None:
    ticket = report_fault(service)
    assert service.contact_phone(ticket.id, actor="zhang.wei") == "13800138000"
    assert service.get(ticket.id).history[-1].kind == "contact_viewed"


def test_add_customer_info_to_finished_ticket_is_refused_clearly(service: TicketService) -> None:
    ticket = report_fault(service)
    service.cancel_by_customer(ticket_id=ticket.id, phone="13800138000", reason="已恢复")
    with pytest.raises(InvalidTransition) as err:
        service.add_customer_info(ticket_id=ticket.id, phone="13800138000", text="又断了")
    assert "补充信息" in err.value.message_zh
