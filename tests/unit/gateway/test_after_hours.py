"""Outside working hours a queued customer leaves a message and gets a ticket number (real database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gateway.agents.handoffs import HandoffLog
from gateway.agents.leave_message import ASK_PHONE, ASK_PROBLEM, LeaveMessage
from gateway.agents.policy import WorkingHours
from gateway.conversations import ConversationInfo, ConversationStore, OutgoingMessage
from kefu.db import make_engine, make_session_factory
from tickets import TicketService
from tickets.settings import TicketSettings

BEIJING_10AM = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
BEIJING_11PM = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
BEIJING_0759 = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)


def test_working_hours_are_a_daily_window_in_beijing_time() -> None:
    hours = WorkingHours("08:00-22:00")
    assert hours.is_open(BEIJING_10AM)
    assert not hours.is_open(BEIJING_11PM)
    assert not hours.is_open(BEIJING_0759)
    assert hours.label == "每天 08:00–22:00"


def test_an_overnight_shift_spans_midnight() -> None:
    night = WorkingHours("22:00-06:00")
    assert night.is_open(BEIJING_11PM) and not night.is_open(BEIJING_10AM)


def test_always_open_and_an_empty_window() -> None:
    assert WorkingHours.always().is_open(BEIJING_11PM)
    assert WorkingHours("00:00-24:00").is_open(BEIJING_0759)
    assert not WorkingHours("09:00-09:00").is_open(BEIJING_10AM)


@pytest.mark.parametrize("spec", ["8-22", "25:00-26:00", "08:00-24:30", "08:60-22:00", ""])
def test_malformed_working_hours_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        WorkingHours(spec)


class Taker:
    """LeaveMessage on a real database; ``slots`` stands for the bot's tracker (or Rasa being down)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.store = ConversationStore(factory)
        self.handoffs = HandoffLog(factory)
        self.tickets = TicketService(factory, settings=TicketSettings())
        self.slots: dict[str, Any] | None = {}
        self.released: list[str] = []
        self.conv = self.store.create(channel="web")
        self.take = LeaveMessage(
            self.store,
            self.handoffs,
            lambda: self.tickets,
            self._slots,
            WorkingHours("08:00-22:00"),
            self._back,
        )

    async def _slots(self, conversation_id: str) -> dict[str, Any]:
        if self.slots is None:
            raise ConnectionError("rasa down")
        return self.slots

    async def _back(self, conversation_id: str) -> None:
        self.released.append(conversation_id)

    def queue(self) -> None:
        self.handoffs.open(self.conv.id, reason="request_human", note="", priority=5, after_hours=True)

    async def say(self, *texts: str) -> str | None:
        for text in texts:
            self.store.append(self.conv.id, OutgoingMessage(sender="customer", text=text))
        conv: ConversationInfo = self.store.get(self.conv.id)
        return await self.take(conv, texts[-1])


@pytest.fixture
def taker(database_url: str) -> Taker:
    return Taker(make_session_factory(make_engine(database_url)))


def _left(ticket_id: str, masked: str) -> str:
    return (
        f"已为您登记留言工单 {ticket_id}，客服将在工作时间（每天 08:00–22:00）尽快与您联系"
        f"（联系电话 {masked}）。如还有其他问题，智能助手可以继续为您解答。"
    )


async def test_a_message_with_phone_and_problem_becomes_an_inquiry_ticket(taker: Taker) -> None:
    taker.queue()
    reply = await taker.say("/request_human", "宽带从昨晚就断了，明早联系我 138-0013-8000")
    [view] = taker.tickets.list_for_customer("13800138000")
    assert reply == _left(view.id, "138****8000")
    assert (view.category, view.description, view.channel) == (
        "inquiry",
        "宽带从昨晚就断了，明早联系我",
        "web",
    )
    assert view.details == {
        "source": "after_hours_message",
        "handoff_reason": "request_human",
        "type_text": "非工作时间留言",
    }
    handoff = taker.handoffs.current(taker.conv.id)
    assert handoff is not None and handoff.ticket_id == view.id
    assert taker.released == [taker.conv.id]


async def test_without_a_phone_the_customer_is_asked_for_one(taker: Taker) -> None:
    taker.queue()
    assert await taker.say("宽带断了") == ASK_PHONE
    assert taker.released == []


async def test_the_phone_the_bot_verified_is_used(taker: Taker) -> None:
    taker.queue()
    taker.slots = {"verified_phone": "13900139000", "contact_phone": "13800138000"}
    reply = await taker.say("网速很慢，晚上看不了视频")
    [view] = taker.tickets.list_for_customer("13900139000")
    assert reply == _left(view.id, "139****9000")


async def test_rasa_down_means_asking_the_customer_for_the_phone(taker: Taker) -> None:
    taker.queue()
    taker.slots = None
    assert await taker.say("网速很慢") == ASK_PHONE


async def test_a_bare_phone_asks_for_the_problem_then_both_make_the_ticket(taker: Taker) -> None:
    taker.queue()
    assert await taker.say("13800138000") == ASK_PROBLEM
    reply = await taker.say("电视没信号")
    [view] = taker.tickets.list_for_customer("13800138000")
    assert reply == _left(view.id, "138****8000")
    assert view.description == "电视没信号"


async def test_no_queue_stay_means_no_message_is_taken(taker: Taker) -> None:
    assert await taker.say("宽带断了 13800138000") is None
    assert taker.tickets.list_for_customer("13800138000") == []
