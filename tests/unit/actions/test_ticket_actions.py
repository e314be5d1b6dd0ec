"""Ticket forms end in a real ticket; check_ticket shows only the customer's own tickets."""

from __future__ import annotations

import re

import pytest
from rasa_sdk.events import SlotSet

from actions.account import ActionAccountRequest
from actions.tickets import ActionSubmitComplaint, ActionSubmitFault
from tests.unit.actions.conftest import DOMAIN, make_tracker, texts, user_event, verify

pytest.importorskip("tickets.service", reason="tickets.service (TicketService) not present yet")

FAULT = {
    "contact_phone": "13800138000",
    "fault_type": "宽带断网",
    "district": "海淀区",
    "address": "海淀区中关村大街1号",
    "fault_since": "今天早上",
    "preferred_time": "明天上午",
    "form_confirmed": "yes",
}


async def test_action_submit_fault_opens_ticket_with_number_department_and_deadline(
    services, dispatcher
) -> None:
    events = await ActionSubmitFault().run(
        dispatcher, make_tracker(FAULT, [user_event("确认", "affirm")]), DOMAIN
    )
    said = texts(dispatcher)
    assert "工单号：TK" in said and "处理部门：" in said and "预计处理时限：" in said
    ticket_events = [e for e in events if e.get("name") == "last_ticket_id"]
    assert ticket_events and ticket_events[0]["value"].startswith("TK")
    assert SlotSet("fault_type", None) in events


async def test_action_submit_complaint_with_regulator_threat_hands_off(services, dispatcher) -> None:
    slots = {
        "contact_phone": "13800138000",
        "issue_detail": "乱扣费三个月了，再不处理我就去工信部投诉",
        "desired_remedy": "退钱",
        "form_confirmed": "yes",
    }
    events = [user_event("乱扣费三个月了，再不处理我就去工信部投诉", "complain")]
    await ActionSubmitComplaint().run(dispatcher, make_tracker(slots, events), DOMAIN)
    handoffs = [m["custom"]["handoff"] for m in dispatcher.messages if m.get("custom")]
    assert handoffs and handoffs[0]["reason"] == "escalation" and "工信部" in handoffs[0]["note"]


async def test_action_check_ticket_lists_only_own_tickets(services, dispatcher) -> None:
    verify(services, "13800138000")
    await ActionSubmitFault().run(dispatcher, make_tracker(FAULT), DOMAIN)
    other = {**FAULT, "contact_phone": "13900139000"}
    await ActionSubmitFault().run(dispatcher, make_tracker(other), DOMAIN)
    own = re.findall(r"工单号：(TK[\d-]+)", texts(dispatcher))
    assert len(own) == 2
    mine, theirs = own

    check = type(dispatcher)()
    tracker = make_tracker(
        {"verified_phone": "13800138000"},
        [user_event("查一下我的工单", "check_ticket"), {"event": "active_loop", "name": "verification_form"}],
    )
    await ActionAccountRequest().run(check, tracker, DOMAIN)
    assert mine in texts(check) and theirs not in texts(check)


async def test_action_check_ticket_cancel_own_ticket(services, dispatcher) -> None:
    verify(services, "13800138000")
    events = await ActionSubmitFault().run(dispatcher, make_tracker(FAULT), DOMAIN)
    ticket_id = next(e["value"] for e in events if e.get("name") == "last_ticket_id")
    cancel = type(dispatcher)()
    tracker = make_tracker(
        {"verified_phone": "13800138000"},
        [
            user_event(f"撤销工单 {ticket_id}", "check_ticket"),
            {"event": "active_loop", "name": "verification_form"},
        ],
    )
    await ActionAccountRequest().run(cancel, tracker, DOMAIN)
    assert f"工单{ticket_id}已为您撤销" in texts(cancel)


def _check(phone: str, text: str = "查一下我的工单"):
    return make_tracker(
        {"verified_phone": phone},
        [user_event(text, "check_ticket"), {"event": "active_loop", "name": "verification_form"}],
    )


async def _open_fault(dispatcher, phone: str = "13800138000") -> str:
    events = await ActionSubmitFault().run(
        dispatcher, make_tracker({**FAULT, "contact_phone": phone}), DOMAIN
    )
    return str(next(e["value"] for e in events if e.get("name") == "last_ticket_id"))


async def test_action_check_ticket_add_info_to_own_ticket(services, dispatcher) -> None:
    verify(services, "13800138000")
    ticket_id = await _open_fault(dispatcher)
    add = type(dispatcher)()
    await ActionAccountRequest().run(
        add, _check("13800138000", f"补充工单 {ticket_id} 晚上8点后家里有人"), DOMAIN
    )
    assert f"已将您的补充信息添加到工单{ticket_id}" in texts(add)
    from actions.common import ticket_service

    view = ticket_service().get(ticket_id)
    assert any("晚上8点后家里有人" in c.text for c in view.comments) or "晚上8点后" in str(view.history)


async def test_action_check_ticket_other_customers_ticket_cannot_be_cancelled(services, dispatcher) -> None:
    verify(services, "13800138000")
    ticket_id = await _open_fault(dispatcher, "13900139000")
    cancel = type(dispatcher)()
    await ActionAccountRequest().run(cancel, _check("13800138000", f"撤销工单 {ticket_id}"), DOMAIN)
    assert f"在您的名下没有找到工单{ticket_id}" in texts(cancel)


async def test_action_check_ticket_resolved_ticket_asks_for_rating_and_accepts_it(
    services, dispatcher
) -> None:
    verify(services, "13800138000")
    from actions.common import ticket_service

    ticket_id = await _open_fault(dispatcher)
    ticket_service().change_status(ticket_id, to="resolved", actor="agent1", note="已修复")
    check = type(dispatcher)()
    await ActionAccountRequest().run(check, _check("13800138000"), DOMAIN)
    assert {"csat": {"ticket_id": ticket_id}} in [m.get("custom") for m in check.messages]
    rate = type(dispatcher)()
    await ActionAccountRequest().run(rate, _check("13800138000", f"评价 {ticket_id} 5分 修得很快"), DOMAIN)
    assert "感谢您的评价" in texts(rate)
    assert ticket_service().get(ticket_id).rating == 5


async def _report(dispatcher, phone: str, sender: str) -> list:
    tracker = make_tracker({**FAULT, "contact_phone": phone}, sender_id=sender)
    return await ActionSubmitFault().run(dispatcher, tracker, DOMAIN)


async def test_action_submit_fault_tells_reporter_about_known_district_outage(services, dispatcher) -> None:
    from actions.common import ticket_service

    threshold = ticket_service().settings.incident_threshold
    phones = ["13800138000", "13900139000", "13700137000", "13600136000", "15000150000"][: threshold + 1]
    for n, phone in enumerate(phones):  # distinct subscribers, each verified in their own chat
        verify(services, phone, sender_id=f"reporter-{n}")
        said = type(dispatcher)()
        await _report(said, phone, f"reporter-{n}")
    assert "已知的网络故障" in texts(said)


async def test_invented_reports_open_no_outage(services, dispatcher) -> None:
    for n in range(4):
        said = type(dispatcher)()
        await _report(said, f"1370000{n:04d}", "one-stranger")
    assert "已知的网络故障" not in texts(said)


async def test_report_for_someone_elses_phone_does_not_reveal_their_ticket(services, dispatcher) -> None:
    verify(services, "13800138000", sender_id="owner")
    await _report(dispatcher, "13800138000", "owner")
    own = re.search(r"工单号：(TK[\d-]+)", texts(dispatcher)).group(1)
    stranger = type(dispatcher)()
    await _report(stranger, "13800138000", "stranger")
    said = texts(stranger)
    assert own not in said and "已有处理中的工单" not in said
    assert said.startswith("已为您登记故障报修工单，工单号：TK")


def test_number_inside_an_address_does_not_replace_the_phone_given_before(dispatcher) -> None:
    from actions.tickets import ValidateFaultForm

    tracker = make_tracker(
        {"requested_slot": "district", "contact_phone": "1"},
        [{"event": "slot", "name": "contact_phone", "value": "13800138000"}],
        active_loop="fault_form",
    )
    result = ValidateFaultForm().validate_contact_phone("1", dispatcher, tracker, DOMAIN)
    assert result == {"contact_phone": "13800138000"}
    assert texts(dispatcher) == ""  # the customer is not asked for the phone again


def test_wrong_phone_when_asked_for_it_is_refused(dispatcher) -> None:
    from actions.tickets import ValidateFaultForm

    tracker = make_tracker({"requested_slot": "contact_phone"}, [], active_loop="fault_form")
    result = ValidateFaultForm().validate_contact_phone("12345", dispatcher, tracker, DOMAIN)
    assert result == {"contact_phone": None}
    assert "号码好像不对" in texts(dispatcher)
