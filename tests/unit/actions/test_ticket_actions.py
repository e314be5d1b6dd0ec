"""Ticket forms end in a real ticket; the customer is told exactly its number, department and deadline."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet

import actions.common as common
from actions.account import ActionAccountRequest
from actions.ticket_forms import ValidateFaultForm
from actions.tickets import ActionSubmitApplication, ActionSubmitComplaint, ActionSubmitFault
from kefu.settings import get_common_settings
from tests.unit.actions.conftest import DOMAIN, FORM_SLOT_NAMES, make_tracker, said, texts, user_event, verify
from tickets.forms import local_time

FAULT = {
    "contact_phone": "13800138000",
    "fault_type": "宽带断网",
    "district": "海淀区",
    "address": "海淀区中关村大街1号",
    "fault_since": "今天早上",
    "preferred_time": "明天上午",
    "form_confirmed": "yes",
}
COMPLAINT = {"contact_phone": "13800138000", "desired_remedy": "退钱", "form_confirmed": "yes"}
# Every form slot but the phone is cleared after a submission (the phone is kept for the next form).
RESET = [SlotSet(name, None) for name in FORM_SLOT_NAMES if name != "contact_phone"]
NEXT_STEPS = "接下来工作人员会通过您留的电话与您联系；您可以随时说“查工单”查看进度。"


def registered(what: str, ticket_id: str, department: str) -> str:
    view = common.ticket_service().get(ticket_id)
    return (
        f"已为您登记{what}，工单号：{ticket_id}。\n处理部门：{department}\n"
        f"预计处理时限：{local_time(view.due_at)}前（北京时间）\n{NEXT_STEPS}"
    )


def last_ticket(events: list[dict]) -> str:
    return str(next(e["value"] for e in events if e.get("name") == "last_ticket_id"))


async def test_submit_fault_opens_ticket_and_says_number_department_and_deadline(
    services, dispatcher
) -> None:
    events = await ActionSubmitFault().run(
        dispatcher, make_tracker(FAULT, [user_event("确认", "affirm")]), DOMAIN
    )
    ticket_id = last_ticket(events)
    assert events == [*RESET, SlotSet("last_ticket_id", ticket_id)]
    assert dispatcher.messages == [said(registered("故障报修工单", ticket_id, "装维服务部"))]
    view = common.ticket_service().get(ticket_id)
    assert (view.type, view.district, view.description) == (
        "broadband_down",
        "海淀区",
        "宽带断网，今天早上开始",
    )
    assert view.details == {
        "fault_type": "宽带断网",
        "since": "今天早上",
        "address": "海淀区中关村大街1号",
        "preferred_time": "明天上午",
        "type_text": "宽带断网",
        "reporter_verified": False,  # nobody proved the phone in this conversation
    }


async def test_submit_fault_of_the_modem_light_opens_a_modem_light_ticket(services, dispatcher) -> None:
    form = ValidateFaultForm()
    tracker = make_tracker({"requested_slot": "contact_phone"}, [user_event("光猫红灯了", "report_fault")])
    assert await form.extract_fault_type(dispatcher, tracker, DOMAIN) == {"fault_type": "光猫指示灯异常"}
    events = await ActionSubmitFault().run(
        dispatcher, make_tracker({**FAULT, "fault_type": "光猫指示灯异常"}), DOMAIN
    )
    assert common.ticket_service().get(last_ticket(events)).type == "modem_light"


async def test_repeat_fault_report_joins_the_open_ticket_and_says_so(services, dispatcher) -> None:
    verify(services, "13800138000")  # only a reporter who proved the phone joins its open ticket
    first = last_ticket(await ActionSubmitFault().run(dispatcher, make_tracker(FAULT), DOMAIN))
    again = type(dispatcher)()
    events = await ActionSubmitFault().run(again, make_tracker(FAULT), DOMAIN)
    assert events == [*RESET, SlotSet("last_ticket_id", first)]
    merged = f"您反映的问题已有处理中的工单{first}，本次信息已补充到该工单，我们会加急处理。\n"
    assert again.messages == [said(merged + registered("故障报修工单", first, "装维服务部"))]


async def test_submit_complaint_with_regulator_threat_hands_off(services, dispatcher) -> None:
    detail = "乱扣费三个月了，再不处理我就去工信部投诉"
    tracker = make_tracker({**COMPLAINT, "issue_detail": detail}, [user_event(detail, "complain")])
    events = await ActionSubmitComplaint().run(dispatcher, tracker, DOMAIN)
    ticket_id = last_ticket(events)
    assert events == [*RESET, SlotSet("last_ticket_id", ticket_id)]
    handoff = {
        "handoff": {"reason": "escalation", "note": f"客户提及向工信部/通信管理局申诉；工单{ticket_id}"}
    }
    assert dispatcher.messages == [
        said(registered("投诉工单", ticket_id, "计费账务部")),
        said("您的投诉我们非常重视，正在为您转接人工客服…", custom=handoff),
    ]


async def test_complaint_giving_a_phone_with_315_in_it_is_not_escalated(services, dispatcher) -> None:
    detail = "营业员态度很差，回电13315012345"
    tracker = make_tracker({**COMPLAINT, "issue_detail": detail}, [user_event(detail, "complain")])
    events = await ActionSubmitComplaint().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages == [said(registered("投诉工单", last_ticket(events), "客户服务部"))]


async def test_submit_application_opens_a_business_ticket(services, dispatcher) -> None:
    slots = {
        "business_type": "装宽带",
        "contact_phone": "13800138000",
        "district": "朝阳区",
        "address": "朝阳区建国路88号",
        "preferred_time": "周六上午",
        "form_confirmed": "yes",
    }
    events = await ActionSubmitApplication().run(dispatcher, make_tracker(slots), DOMAIN)
    ticket_id = last_ticket(events)
    assert dispatcher.messages == [said(registered("业务办理申请", ticket_id, "装维服务部"))]
    view = common.ticket_service().get(ticket_id)
    assert (view.type, view.description) == ("broadband_install", "申请办理：装宽带")


async def test_unconfirmed_form_opens_nothing(services, dispatcher) -> None:
    events = await ActionSubmitFault().run(
        dispatcher, make_tracker({**FAULT, "form_confirmed": None}), DOMAIN
    )
    assert events == RESET
    assert dispatcher.messages == []
    assert common.ticket_service().list_for_customer("13800138000") == []


async def test_invalid_ticket_data_is_explained_and_the_form_reset(services, dispatcher) -> None:
    events = await ActionSubmitFault().run(
        dispatcher, make_tracker({**FAULT, "contact_phone": "12345"}), DOMAIN
    )
    assert events == RESET
    assert dispatcher.messages == [said("抱歉，工单没有提交成功：请提供正确的11位手机号码。请重新发起。")]


@pytest.fixture
def broken_tickets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The action server on a database that was never migrated: every ticket write fails."""
    monkeypatch.setenv("KEFU_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    for cached in (get_common_settings, common.session_factory, common.ticket_service):
        cached.cache_clear()
    yield
    for cached in (get_common_settings, common.session_factory, common.ticket_service):
        cached.cache_clear()


async def test_ticket_system_failure_hands_the_details_to_a_person(broken_tickets, dispatcher) -> None:
    events = await ActionSubmitFault().run(dispatcher, make_tracker(FAULT), DOMAIN)
    assert events == RESET
    details = (
        "{'fault_type': '宽带断网', 'since': '今天早上', 'address': '海淀区中关村大街1号', "
        "'preferred_time': '明天上午'}"
    )
    note = f"故障报修工单登记失败，请人工补录：宽带断网，今天早上开始；{details}"
    assert dispatcher.messages == [
        said(
            "抱歉，工单系统暂时无法登记，您的信息没有丢失。我为您转接人工客服继续处理。",
            custom={"handoff": {"reason": "fallback", "note": note}},
        )
    ]


async def _report(dispatcher, phone: str, sender: str) -> list:
    tracker = make_tracker({**FAULT, "contact_phone": phone}, sender_id=sender)
    return await ActionSubmitFault().run(dispatcher, tracker, DOMAIN)


async def test_submit_fault_tells_reporter_about_known_district_outage(services, dispatcher) -> None:
    threshold = common.ticket_service().settings.incident_threshold
    phones = ["13900139000", "13700137000", "13600136000", "15000150000", "18600186000"][:threshold]
    for n, phone in enumerate(phones):  # distinct subscribers, each verified in their own chat
        verify(services, phone, sender_id=f"reporter-{n}")
        await _report(type(dispatcher)(), phone, f"reporter-{n}")
    late = type(dispatcher)()
    events = await ActionSubmitFault().run(
        late, make_tracker({**FAULT, "contact_phone": "13799999999"}), DOMAIN
    )
    view = common.ticket_service().get(last_ticket(events))
    assert view.incident is not None
    outage = (
        f"\n另外提醒您：您所在区域目前有已知的网络故障正在抢修（{view.incident.summary}），修复后将自动恢复。"
    )
    assert late.messages == [said(registered("故障报修工单", view.id, "装维服务部") + outage)]
    assert view.incident.summary.startswith("海淀区网络故障，抢修中，预计")


async def test_invented_reports_open_no_outage(services, dispatcher) -> None:
    for n in range(4):
        await _report(type(dispatcher)(), f"1370000{n:04d}", "one-stranger")
    assert common.ticket_service().list_incidents() == []


async def test_report_for_someone_elses_phone_does_not_reveal_their_ticket(services, dispatcher) -> None:
    verify(services, "13800138000", sender_id="owner")
    own = last_ticket(await _report(dispatcher, "13800138000", "owner"))
    stranger = type(dispatcher)()
    theirs = last_ticket(await _report(stranger, "13800138000", "stranger"))
    assert theirs != own
    assert stranger.messages == [said(registered("故障报修工单", theirs, "装维服务部"))]
    assert common.ticket_service().get(own).report_count == 1


def test_number_inside_an_address_does_not_replace_the_phone_given_before(dispatcher) -> None:
    tracker = make_tracker(
        {"requested_slot": "district", "contact_phone": "1"},
        [{"event": "slot", "name": "contact_phone", "value": "13800138000"}],
        active_loop="fault_form",
    )
    result = ValidateFaultForm().validate_contact_phone("1", dispatcher, tracker, DOMAIN)
    assert result == {"contact_phone": "13800138000"}
    assert dispatcher.messages == []  # the customer is not asked for the phone again


def test_wrong_phone_when_asked_for_it_is_refused(dispatcher) -> None:
    tracker = make_tracker({"requested_slot": "contact_phone"}, [], active_loop="fault_form")
    result = ValidateFaultForm().validate_contact_phone("12345", dispatcher, tracker, DOMAIN)
    assert result == {"contact_phone": None}
    assert dispatcher.messages == [
        said("这个号码好像不对，请输入11位中国大陆手机号（如13800138000），方便工作人员联系您。")
    ]


# check_ticket lives in actions/account.py; these follow a ticket opened by the form.
def _check(phone: str, text: str = "查一下我的工单"):
    return make_tracker(
        {"verified_phone": phone},
        [user_event(text, "check_ticket"), {"event": "active_loop", "name": "verification_form"}],
    )


async def _open_fault(dispatcher, phone: str = "13800138000") -> str:
    return last_ticket(
        await ActionSubmitFault().run(dispatcher, make_tracker({**FAULT, "contact_phone": phone}), DOMAIN)
    )


async def test_action_check_ticket_lists_only_own_tickets(services, dispatcher) -> None:
    verify(services, "13800138000")
    mine = await _open_fault(dispatcher)
    theirs = await _open_fault(dispatcher, "13900139000")
    check = type(dispatcher)()
    await ActionAccountRequest().run(check, _check("13800138000"), DOMAIN)
    assert mine in texts(check) and theirs not in texts(check)


async def test_action_check_ticket_shows_the_status_label_of_the_tickets_table(services, dispatcher) -> None:
    verify(services, "13800138000")
    ticket_id = await _open_fault(dispatcher)
    common.ticket_service().change_status(ticket_id, to="waiting_customer", actor="agent1")
    check = type(dispatcher)()
    await ActionAccountRequest().run(check, _check("13800138000"), DOMAIN)
    assert f"· {ticket_id}（宽带断网）：待您补充信息，处理部门：装维服务部" in texts(check)


async def test_action_check_ticket_cancel_own_ticket(services, dispatcher) -> None:
    verify(services, "13800138000")
    ticket_id = await _open_fault(dispatcher)
    cancel = type(dispatcher)()
    await ActionAccountRequest().run(cancel, _check("13800138000", f"撤销工单 {ticket_id}"), DOMAIN)
    assert f"工单{ticket_id}已为您撤销" in texts(cancel)


async def test_action_check_ticket_add_info_to_own_ticket(services, dispatcher) -> None:
    verify(services, "13800138000")
    ticket_id = await _open_fault(dispatcher)
    add = type(dispatcher)()
    await ActionAccountRequest().run(
        add, _check("13800138000", f"补充工单 {ticket_id} 晚上8点后家里有人"), DOMAIN
    )
    assert f"已将您的补充信息添加到工单{ticket_id}" in texts(add)
    view = common.ticket_service().get(ticket_id)
    assert [c.text for c in view.comments] == ["晚上8点后家里有人"]


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
    ticket_id = await _open_fault(dispatcher)
    common.ticket_service().change_status(ticket_id, to="resolved", actor="agent1", note="已修复")
    check = type(dispatcher)()
    await ActionAccountRequest().run(check, _check("13800138000"), DOMAIN)
    assert {"csat": {"ticket_id": ticket_id}} in [m.get("custom") for m in check.messages]
    rate = type(dispatcher)()
    await ActionAccountRequest().run(rate, _check("13800138000", f"评价 {ticket_id} 5分 修得很快"), DOMAIN)
    assert "感谢您的评价" in texts(rate)
    assert common.ticket_service().get(ticket_id).rating == 5
