"""Ticket forms end in a real ticket; check_ticket shows only the customer's own tickets."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions.account import ActionAccountRequest
from actions.tickets import ActionSubmitComplaint, ActionSubmitFault
from tests.unit.actions.conftest import DOMAIN, make_tracker, texts, user_event

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
    await ActionSubmitFault().run(dispatcher, make_tracker(FAULT), DOMAIN)
    other = {**FAULT, "contact_phone": "13900139000"}
    await ActionSubmitFault().run(dispatcher, make_tracker(other), DOMAIN)
    own = [m for m in texts(dispatcher).split() if m.startswith("工单号：")]
    assert len(own) == 2
    mine, theirs = own[0].removeprefix("工单号：").rstrip("。"), own[1].removeprefix("工单号：").rstrip("。")

    check = type(dispatcher)()
    tracker = make_tracker(
        {"verified_phone": "13800138000"},
        [user_event("查一下我的工单", "check_ticket"), {"event": "active_loop", "name": "verification_form"}],
    )
    await ActionAccountRequest().run(check, tracker, DOMAIN)
    assert mine in texts(check) and theirs not in texts(check)


async def test_action_check_ticket_cancel_own_ticket(services, dispatcher) -> None:
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
