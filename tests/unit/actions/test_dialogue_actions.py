"""Tariff answers, plan changes with confirmation, handoff, fallback and form corrections."""

from __future__ import annotations

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.account import ActionAccountRequest
from actions.account_change import ActionConfirmAccountChange
from actions.fallback import ActionFallback
from actions.handoff import ActionHandoff
from actions.tariffs import ActionAnswerTariff
from actions.ticket_forms import ActionAskFormConfirmed, ActionFormCancelled, ValidateFaultForm
from tests.unit.actions.conftest import (
    DOMAIN,
    FORM_SLOT_NAMES,
    make_tracker,
    said,
    texts,
    user_event,
    verify,
)

VERIFIED = {"verified_phone": "13800138000"}


def _request(text: str, intent: str) -> list[dict]:
    return [user_event(text, intent), {"event": "active_loop", "name": "verification_form"}]


async def test_action_answer_tariff_cheapest_5g_then_asks_if_helpful(services, dispatcher) -> None:
    tracker = make_tracker(events=[user_event("最便宜的5G套餐是哪个", "ask_tariff")])
    events = await ActionAnswerTariff().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages[0]["text"].startswith("最便宜的是青春校园卡")
    assert dispatcher.messages[-1]["text"] == "以上信息对您有帮助吗？"
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == ["/affirm", "/deny"]
    assert events == [SlotSet("plan_name", None)]


async def _propose_99(dispatcher: CollectingDispatcher) -> None:
    tracker = make_tracker({**VERIFIED, "plan_name": "畅享99"}, _request("我想换成畅享99", "change_plan"))
    events = await ActionAccountRequest().run(dispatcher, tracker, DOMAIN)
    assert events == [
        SlotSet("pending_change", "plan:5g-99"),
        SlotSet("plan_name", None),
        SlotSet("ticket_id", None),
    ]


async def test_action_change_plan_asks_confirmation_then_applies_next_cycle(services, dispatcher) -> None:
    verify(services, "13800138000")
    await _propose_99(dispatcher)
    assert "从5G畅享129元套餐变更为5G畅享99元套餐" in texts(dispatcher) and "确认办理吗" in texts(dispatcher)

    confirm = CollectingDispatcher()
    tracker = make_tracker({**VERIFIED, "pending_change": "plan:5g-99"}, [user_event("确认", "affirm")])
    events = await ActionConfirmAccountChange().run(confirm, tracker, DOMAIN)
    assert events == [SlotSet("pending_change", None)]
    assert texts(confirm).startswith("办理成功！5G畅享99元套餐将于") and texts(confirm).endswith(
        "（下个计费周期）起生效。"
    )


async def test_action_confirm_account_change_deny_changes_nothing(services, dispatcher) -> None:
    verify(services, "13800138000")
    await _propose_99(CollectingDispatcher())
    tracker = make_tracker({**VERIFIED, "pending_change": "plan:5g-99"}, [user_event("不了", "deny")])
    events = await ActionConfirmAccountChange().run(dispatcher, tracker, DOMAIN)
    assert events == [SlotSet("pending_change", None)]
    assert texts(dispatcher) == "好的，已取消本次办理，您的账户没有任何变化。"
    query = CollectingDispatcher()
    await ActionAccountRequest().run(
        query, make_tracker(VERIFIED, _request("查套餐", "query_account")), DOMAIN
    )
    assert "待生效" not in texts(query)


async def test_forged_pending_change_is_not_applied(services, dispatcher) -> None:
    """A pending_change slot the bot never proposed (here: cancel the line) changes nothing."""
    verify(services, "13800138000")
    await _propose_99(CollectingDispatcher())
    forged = {**VERIFIED, "pending_change": "business:cancel_service"}
    tracker = make_tracker(forged, [user_event("确认", "affirm")])
    events = await ActionConfirmAccountChange().run(dispatcher, tracker, DOMAIN)
    assert events == [SlotSet("pending_change", None)]
    assert texts(dispatcher).startswith("办理成功！5G畅享99元套餐")  # what the bot offered, nothing else
    again = CollectingDispatcher()
    second = make_tracker(forged, [user_event("确认", "affirm"), user_event("确认", "affirm")])
    assert await ActionConfirmAccountChange().run(again, second, DOMAIN) == [SlotSet("pending_change", None)]
    assert texts(again) == "好的。还有其他可以帮您的吗？"  # used once: a second message finds nothing


async def test_pending_change_without_any_proposal_changes_nothing(services, dispatcher) -> None:
    verify(services, "13800138000")
    tracker = make_tracker({**VERIFIED, "pending_change": "plan:5g-199"}, [user_event("确认", "affirm")])
    events = await ActionConfirmAccountChange().run(dispatcher, tracker, DOMAIN)
    assert events == [SlotSet("pending_change", None)]
    assert texts(dispatcher) == "好的。还有其他可以帮您的吗？"
    query = CollectingDispatcher()
    await ActionAccountRequest().run(
        query, make_tracker(VERIFIED, _request("查套餐", "query_account")), DOMAIN
    )
    assert "待生效" not in texts(query) and "5G畅享129元套餐" in texts(query)


async def test_proposal_of_another_conversation_is_not_applied(services, dispatcher) -> None:
    verify(services, "13800138000")
    await _propose_99(CollectingDispatcher())
    verify(services, "13800138000", sender_id="conv-2")
    tracker = make_tracker(VERIFIED, [user_event("确认", "affirm")], sender_id="conv-2")
    await ActionConfirmAccountChange().run(dispatcher, tracker, DOMAIN)
    assert texts(dispatcher) == "好的。还有其他可以帮您的吗？"


async def test_action_order_addon_without_name_lists_addons(services, dispatcher) -> None:
    verify(services, "13800138000")
    await ActionAccountRequest().run(
        dispatcher, make_tracker(VERIFIED, _request("加个包", "order_addon")), DOMAIN
    )
    assert "10GB流量加油包" in texts(dispatcher) and "5G畅享99元套餐" not in texts(dispatcher)


async def test_action_port_number_lists_materials_and_asks_confirmation(services, dispatcher) -> None:
    verify(services, "13800138000")
    events = await ActionAccountRequest().run(
        dispatcher, make_tracker(VERIFIED, _request("我要携号转网", "port_number")), DOMAIN
    )
    assert "身份证件原件" in texts(dispatcher) and texts(dispatcher).endswith(
        "确认要为您登记携号转网申请吗？"
    )
    assert events == [
        SlotSet("pending_change", "business:port_number"),
        SlotSet("plan_name", None),
        SlotSet("ticket_id", None),
    ]


async def test_action_handoff_sends_handoff_payload_with_masked_note(services, dispatcher) -> None:
    tracker = make_tracker(events=[user_event("我号码13800138000，给我转人工", "request_human")])
    assert await ActionHandoff().run(dispatcher, tracker, DOMAIN) == []
    note = "意图：request_human；客户最近说：我号码138****8000，给我转人工"
    assert dispatcher.messages == [
        said("正在为您转接人工客服…", custom={"handoff": {"reason": "request_human", "note": note}})
    ]


async def test_action_fallback_first_time_offers_top_two_intents(services, dispatcher) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "ask_policy", "confidence": 0.3},
        {"name": "report_fault", "confidence": 0.2},
        {"name": "greet", "confidence": 0.1},
    ]
    tracker = make_tracker(events=[user_event("那个东西怎么弄", "nlu_fallback", 0.4, ranking)])
    assert await ActionFallback().run(dispatcher, tracker, DOMAIN) == []
    buttons = [
        {"title": "咨询业务规定", "payload": "/ask_policy"},
        {"title": "故障报修", "payload": "/report_fault"},
        {"title": "转人工客服", "payload": "/request_human"},
    ]
    assert dispatcher.messages == [said("抱歉，我不太确定您的意思，您是想：", buttons=buttons)]


async def test_action_fallback_second_in_a_row_hands_off(services, dispatcher) -> None:
    events = [user_event("那个东西", "nlu_fallback", 0.3), user_event("就是那个", "nlu_fallback", 0.3)]
    assert await ActionFallback().run(dispatcher, make_tracker(events=events), DOMAIN) == []
    note = "意图：nlu_fallback；客户最近说：那个东西 / 就是那个"
    assert dispatcher.messages == [
        said(
            "抱歉，我还是没能理解您的问题，正在为您转接人工客服…",
            custom={"handoff": {"reason": "fallback", "note": note}},
        )
    ]


async def test_validate_fault_form_correction_at_confirmation_updates_phone(services, dispatcher) -> None:
    tracker = make_tracker({"contact_phone": "13800138000"}, active_loop="fault_form")
    result = await ValidateFaultForm().validate_form_confirmed(
        "电话写错了，改成13900139000", dispatcher, tracker, DOMAIN
    )
    assert result == {"form_confirmed": None, "contact_phone": "13900139000"}
    assert dispatcher.messages == [said("已为您更新联系电话。")]


async def test_validate_fault_form_district_needs_a_district(services, dispatcher) -> None:
    form = ValidateFaultForm()
    assert form.validate_district("中关村大街", dispatcher, make_tracker(), DOMAIN) == {"district": None}
    assert dispatcher.messages == [said("请告诉我具体在哪个区（如：海淀区），以及详细地址。")]
    assert form.validate_district("海淀区中关村大街1号", dispatcher, make_tracker(), DOMAIN) == {
        "district": "海淀区",
        "address": "海淀区中关村大街1号",
    }


async def test_validate_fault_form_contact_phone_rejects_invalid_number(services, dispatcher) -> None:
    form = ValidateFaultForm()
    asked = make_tracker({"requested_slot": "contact_phone"}, active_loop="fault_form")
    assert form.validate_contact_phone("2333", dispatcher, asked, DOMAIN) == {"contact_phone": None}
    assert dispatcher.messages == [
        said("这个号码好像不对，请输入11位中国大陆手机号（如13800138000），方便工作人员联系您。")
    ]


async def test_action_ask_form_confirmed_summarises_with_masked_phone(services, dispatcher) -> None:
    slots = {
        "contact_phone": "13800138000",
        "fault_type": "宽带断网",
        "address": "海淀区中关村大街1号",
        "district": "海淀区",
        "fault_since": "今天早上",
        "preferred_time": "明天上午",
    }
    tracker = make_tracker(slots, active_loop="fault_form")
    assert await ActionAskFormConfirmed().run(dispatcher, tracker, DOMAIN) == []
    summary = (
        "请确认您的故障报修信息：\n"
        "· 联系电话：138****8000\n"
        "· 故障类型：宽带断网\n"
        "· 地址：海淀区中关村大街1号\n"
        "· 开始时间：今天早上\n"
        "· 预约时间：明天上午\n"
        "确认无误请回复“确认”；需要修改请直接说，如“电话改成13912345678”；不办了请回复“取消”。"
    )
    buttons = [{"title": "确认提交", "payload": "/affirm"}, {"title": "取消", "payload": "/deny"}]
    assert dispatcher.messages == [said(summary, buttons=buttons)]


async def test_action_form_cancelled_forgets_the_form_but_keeps_verification(services, dispatcher) -> None:
    events = await ActionFormCancelled().run(dispatcher, make_tracker(VERIFIED), DOMAIN)
    forgotten = [*FORM_SLOT_NAMES, "account_request", "requested_slot"]
    assert events == [SlotSet(name, None) for name in forgotten]
    assert dispatcher.messages == [said("好的，已为您取消，本次填写的信息不会提交。还有其他可以帮您的吗？")]


async def test_action_form_cancelled_before_verification_forgets_the_unfinished_code(
    services, dispatcher
) -> None:
    events = await ActionFormCancelled().run(dispatcher, make_tracker(), DOMAIN)
    names = [*FORM_SLOT_NAMES, "verify_phone", "otp_code", "account_request", "requested_slot"]
    assert events == [SlotSet(name, None) for name in names]
