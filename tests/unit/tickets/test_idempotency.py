"""A customer message opens at most one ticket: its replay gives the first ticket back, changing nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, func, select

from kefu.db import make_session_factory
from tests.unit.tickets.helpers import report_fault
from tickets import TicketService
from tickets.models import Ticket, TicketComment, TicketRequest


def _count(engine: Engine, model: type) -> int:
    with make_session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_replayed_message_returns_the_first_ticket_and_opens_no_second(
    service: TicketService, engine: Engine
) -> None:
    first = report_fault(service, verified=False, request_key="k-1")
    again = report_fault(service, verified=False, request_key="k-1")
    assert (again.id, again.merged_into_existing) == (first.id, False)
    assert _count(engine, Ticket) == 1 and _count(engine, TicketRequest) == 1
    assert [e.kind for e in service.get(first.id).history] == ["created"]  # nothing applied twice


def test_another_message_with_the_same_words_opens_its_own_ticket(service: TicketService) -> None:
    first = report_fault(service, verified=False, request_key="k-1")
    second = report_fault(service, verified=False, request_key="k-2")
    assert second.id != first.id and not second.merged_into_existing


def test_a_replayed_merged_report_stays_merged_once(service: TicketService, engine: Engine) -> None:
    """A verified repeat report joins the open ticket; replaying it does not join (or count) again."""
    first = report_fault(service, request_key="k-1")
    merged = report_fault(service, request_key="k-2", text="还是上不了网")
    replay = report_fault(service, request_key="k-2", text="还是上不了网")
    assert merged.id == replay.id == first.id
    assert merged.merged_into_existing and replay.merged_into_existing
    assert service.get(first.id).report_count == 2 and _count(engine, TicketComment) == 1


def test_messages_without_a_key_behave_as_before(service: TicketService) -> None:
    first = report_fault(service, verified=False)
    assert report_fault(service, verified=False).id != first.id


def test_concurrent_deliveries_of_one_message_open_one_ticket(service: TicketService, engine: Engine) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        views = list(pool.map(lambda _: report_fault(service, verified=False, request_key="k-1"), range(6)))
    assert len({v.id for v in views}) == 1
    assert _count(engine, Ticket) == 1
