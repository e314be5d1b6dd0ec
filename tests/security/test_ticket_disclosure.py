"""Finding 4: a fault report for someone else's number neither joins nor reveals their ticket, and
invented reports cannot open an area outage (only distinct verified subscribers count)."""

from __future__ import annotations

import re

from kefu.db import make_engine, make_session_factory
from tests.conftest import LiveStack
from tickets import TicketService

TICKET_RE = re.compile(r"TK\d{8}-\d+")


def _text(reply: dict[str, object]) -> str:
    return "\n".join(str(m["text"]) for m in reply["messages"])  # type: ignore[attr-defined]


def _report_fault(live_stack: LiveStack, phone: str, street: str) -> str:
    """A whole fault form in a fresh conversation; returns the bot's final confirmation."""
    answers = (
        ("联系电话", phone),
        ("什么故障", "宽带断网了"),
        ("哪个区", f"丰台区{street}"),
        ("什么时候开始", "今天早上八点"),
        ("方便的时间", "明天上午"),
    )
    cid = live_stack.new_conversation()
    said = _text(live_stack.say(cid, "我家宽带断网了，帮我报修"))
    for _ in range(10):
        if "工单号" in said:
            return said
        if "请确认" in said:
            answer = "确认"
        else:
            hits = [(said.rfind(key), value) for key, value in answers if key in said]
            assert hits, f"unexpected bot question: {said}"
            answer = max(hits)[1]
        said = _text(live_stack.say(cid, answer))
    raise AssertionError(f"no ticket after the fault form: {said}")


def _service(live_stack: LiveStack) -> tuple[TicketService, object]:
    engine = make_engine(live_stack.settings.database_url)
    return TicketService(make_session_factory(engine)), engine


def test_report_for_someone_elses_phone_does_not_reveal_their_ticket(live_stack: LiveStack) -> None:
    service, engine = _service(live_stack)
    try:
        owner = service.open_ticket(
            category="fault",
            type="宽带断网",
            phone="13700137000",
            channel="web",
            conversation_id="owner-chat",
            description="家里宽带断了",
            district="朝阳区",
            verified=True,
        )
        said = _report_fault(live_stack, "13700137000", "丰台路1号")
        assert owner.id not in said and "已有处理中的工单" not in said
        found = TICKET_RE.search(said)
        assert found is not None and found.group(0) != owner.id  # the stranger's own, new ticket
        assert service.get(owner.id).report_count == 1
    finally:
        engine.dispose()  # type: ignore[attr-defined]


def test_three_invented_reports_open_no_outage(live_stack: LiveStack) -> None:
    replies = [_report_fault(live_stack, f"1330000{n:04d}", f"南三环{n}号") for n in range(3)]
    assert all("已知的网络故障" not in said for said in replies)
    service, engine = _service(live_stack)
    try:
        assert [i for i in service.list_incidents() if i.district == "丰台区"] == []
    finally:
        engine.dispose()  # type: ignore[attr-defined]
