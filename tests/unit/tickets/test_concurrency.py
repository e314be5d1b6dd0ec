"""Many writers at once: every ticket gets its own id and no update is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.unit.tickets.helpers import report_fault
from tickets import TicketService

WORKERS = 8


def test_parallel_creators_get_unique_sequential_ids(service: TicketService) -> None:
    phones = [f"1390000{n:04d}" for n in range(40)]
    with ThreadPoolExecutor(WORKERS) as pool:
        views = list(pool.map(lambda p: report_fault(service, p, district=None), phones))
    ids = [v.id for v in views]
    assert len(set(ids)) == len(phones)
    assert sorted(int(i.rsplit("-", 1)[1]) for i in ids) == list(range(1, len(phones) + 1))


def test_parallel_comments_and_repeat_reports_are_all_kept(service: TicketService) -> None:
    ticket = report_fault(service, district=None)
    with ThreadPoolExecutor(WORKERS) as pool:
        list(
            pool.map(lambda n: service.add_comment(ticket.id, author=f"agent{n}", text=f"跟进{n}"), range(12))
        )
        merged = list(pool.map(lambda n: report_fault(service, district=None, text=f"第{n}次催"), range(12)))
    assert all(v.id == ticket.id for v in merged)
    view = service.get(ticket.id)
    assert view.report_count == 13
    assert sorted(c.text for c in view.comments if c.role == "agent") == sorted(f"跟进{n}" for n in range(12))


def test_parallel_district_reports_open_exactly_one_incident(service: TicketService) -> None:
    phones = [f"1370000{n:04d}" for n in range(10)]
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda p: report_fault(service, p), phones))
    incidents = service.list_incidents()
    assert len(incidents) == 1 and incidents[0].ticket_count == 10
