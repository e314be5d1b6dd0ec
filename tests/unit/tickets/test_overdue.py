"""The overdue job flags late tickets, raises their priority and lists them for supervisors."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.unit.tickets.conftest import Clock
from tests.unit.tickets.helpers import report_fault
from tickets import TicketService, run_overdue_loop


def test_mark_overdue_flags_late_ticket_and_raises_priority(service: TicketService, clock: Clock) -> None:
    late = report_fault(service)
    service.assign(late.id, assignee="zhang.wei", actor="lead")
    assert service.mark_overdue(clock.now + timedelta(hours=47)) == []
    assert service.mark_overdue(clock.now + timedelta(hours=49)) == [late.id]
    view = service.get(late.id)
    assert view.overdue and view.priority == late.priority - 1
    assert view.history[-1].kind == "overdue" and view.history[-1].actor == "system"
    assert [v.id for v in service.supervisor_view()] == [late.id]
    assert service.mark_overdue(clock.now + timedelta(hours=50)) == []  # flagged once


def test_missed_first_response_is_overdue_too(service: TicketService, clock: Clock) -> None:
    ticket = report_fault(service)
    assert service.mark_overdue(clock.now + timedelta(hours=25)) == [ticket.id]


def test_finished_tickets_are_never_overdue(service: TicketService, clock: Clock) -> None:
    ticket = report_fault(service)
    service.change_status(ticket.id, to="resolved", actor="agent")
    assert service.mark_overdue(clock.now + timedelta(days=30)) == []


async def test_run_overdue_loop_marks_tickets_in_background(service: TicketService, clock: Clock) -> None:
    ticket = report_fault(service)
    clock.advance(days=3)
    task = asyncio.create_task(run_overdue_loop(service, 0.05))
    try:
        for _ in range(400):
            if service.get(ticket.id).overdue:
                break
            await asyncio.sleep(0.01)
        assert service.get(ticket.id).overdue
    finally:
        task.cancel()
