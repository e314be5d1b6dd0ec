"""Repeat reports join the open ticket; district outages become incidents that resolve their tickets."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from kefu.db import make_session_factory
from tests.unit.tickets.conftest import Clock
from tests.unit.tickets.helpers import report_fault
from tickets import TicketService, TicketView
from tickets.calendar import WorkingCalendar
from tickets.settings import TicketSettings


def test_same_customer_same_fault_adds_to_open_ticket(service: TicketService) -> None:
    first = report_fault(service, district=None)
    again = report_fault(service, fault="断网", district=None, text="还是上不了网，很着急")
    assert again.id == first.id and again.merged_into_existing
    assert again.report_count == 2 and again.priority < first.priority
    assert any("很着急" in c.text for c in service.get(first.id).comments)
    assert len(service.list_for_customer("13800138000")) == 1


def test_different_fault_or_finished_ticket_opens_a_new_one(service: TicketService) -> None:
    first = report_fault(service, district=None)
    other = report_fault(service, fault="手机无信号", district=None)
    assert other.id != first.id and not other.merged_into_existing
    service.change_status(first.id, to="resolved", actor="agent")
    assert report_fault(service, district=None).id not in (first.id, other.id)


def test_three_reports_from_one_district_open_an_incident(service: TicketService) -> None:
    a = report_fault(service, "13800000001")
    b = report_fault(service, "13800000002")
    assert a.incident is None and b.incident is None
    c = report_fault(service, "13800000003")
    assert c.incident is not None and c.incident.district == "海淀区"
    assert service.get(a.id).incident == service.get(c.id).incident
    assert c.incident.ticket_count == 3 and c.severity == "II"
    assert report_fault(service, "13800000009", district="朝阳区").incident is None


def test_later_reporter_is_told_about_known_outage_and_fix_time(service: TicketService, clock: Clock) -> None:
    for n in range(3):
        report_fault(service, f"1380000000{n}")
    clock.advance(minutes=90)  # outside the grouping window, but the incident is still open
    late = report_fault(service, "13911112222", fault="网速慢")
    assert late.incident is not None
    assert "预计" in late.incident.summary and late.incident.expected_fix_at > clock.now - timedelta(hours=2)
    assert service.known_incident("海淀区") == late.incident


def test_reports_spread_beyond_the_window_open_no_incident(service: TicketService, clock: Clock) -> None:
    for n in range(3):
        assert report_fault(service, f"1380000000{n}").incident is None
        clock.advance(minutes=61)


def test_threshold_and_window_are_configurable(
    engine: Engine, clock: Clock, calendar: WorkingCalendar
) -> None:
    strict = TicketService(
        make_session_factory(engine),
        clock=clock,
        calendar=calendar,
        settings=TicketSettings(incident_threshold=2, incident_window_minutes=10),
    )
    report_fault(strict, "13800000001")
    assert report_fault(strict, "13800000002").incident is not None


def test_resolving_incident_resolves_and_notifies_its_tickets(
    engine: Engine, clock: Clock, calendar: WorkingCalendar, settings: TicketSettings
) -> None:
    told: list[tuple[str, str]] = []

    def notifier(view: TicketView, event: str) -> None:
        told.append((view.id, event))

    service = TicketService(
        make_session_factory(engine), clock=clock, calendar=calendar, settings=settings, notifier=notifier
    )
    tickets = [report_fault(service, f"1380000000{n}") for n in range(3)]
    incident = tickets[-1].incident
    assert incident is not None
    resolved = service.resolve_incident(incident.id, actor="noc", note="光缆已熔接")
    assert sorted(v.id for v in resolved) == sorted(t.id for t in tickets)
    assert all(v.status == "resolved" for v in resolved)
    assert sorted(told) == sorted((t.id, "incident_resolved") for t in tickets)
    assert service.pending_rating("13800000001")[0].id == tickets[1].id
    assert service.known_incident("海淀区") is None
