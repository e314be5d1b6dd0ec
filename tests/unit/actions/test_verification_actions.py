"""The verification form: code sent by SMS, wrong codes counted, lockout, and no data without it."""

from __future__ import annotations

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

import actions.common as common
from accounts.settings import get_otp_settings
from actions.account import ActionAccountRequest
from actions.verification import ValidateVerificationForm
from tests.unit.actions.conftest import DOMAIN, make_tracker, outbox_code, texts, user_event, verify

UNVERIFIED = "身份验证未通过，暂时无法查询或办理账户业务。您可以稍后再试，或转人工客服。"
UNVERIFIED_EVENTS = [
    SlotSet("verify_phone", None),
    SlotSet("otp_code", None),
    SlotSet("plan_name", None),
    SlotSet("ticket_id", None),
]


async def test_validate_verify_phone_sends_code_and_masks_phone(services, dispatcher) -> None:
    form = ValidateVerificationForm()
    result = form.validate_verify_phone("我的号码是13800138000", dispatcher, make_tracker(), DOMAIN)
    assert result == {"verify_phone": "13800138000", "otp_code": None}
    assert texts(dispatcher) == "验证码已发送至138****8000，5分钟内有效。"
    assert len(outbox_code(services, "13800138000")) == 6


async def test_validate_verify_phone_invalid_number_is_asked_again(services, dispatcher) -> None:
    result = ValidateVerificationForm().validate_verify_phone("12345", dispatcher, make_tracker(), DOMAIN)
    assert result == {"verify_phone": None}
    assert "11位" in texts(dispatcher)


async def test_validate_verify_phone_unknown_subscriber_is_refused(services, dispatcher) -> None:
    result = ValidateVerificationForm().validate_verify_phone(
        "13912345678", dispatcher, make_tracker(), DOMAIN
    )
    assert result == {"verify_phone": None}
    assert "未查询到139****5678的账户" in texts(dispatcher)


async def test_validate_otp_code_right_code_verifies_the_phone(services, dispatcher) -> None:
    form = ValidateVerificationForm()
    form.validate_verify_phone("13800138000", dispatcher, make_tracker(), DOMAIN)
    code = outbox_code(services, "13800138000")
    tracker = make_tracker({"verify_phone": "13800138000"})
    result = form.validate_otp_code(code, dispatcher, tracker, DOMAIN)
    assert result == {"otp_code": "verified", "verified_phone": "13800138000"}
    assert texts(dispatcher) == "验证码已发送至138****8000，5分钟内有效。\n身份验证成功。"
    assert common.verification_service().verified_phone("conv-1") == "13800138000"
    assert common.verification_service().verified_phone("conv-2") is None


async def test_validate_otp_code_three_wrong_codes_lock_the_phone(services, dispatcher) -> None:
    form = ValidateVerificationForm()
    form.validate_verify_phone("13800138000", dispatcher, make_tracker(), DOMAIN)
    code = outbox_code(services, "13800138000")
    wrong = "000000" if code != "000000" else "111111"
    tracker = make_tracker({"verify_phone": "13800138000"})
    assert form.validate_otp_code(wrong, dispatcher, tracker, DOMAIN) == {"otp_code": None}
    assert form.validate_otp_code(wrong, dispatcher, tracker, DOMAIN) == {"otp_code": None}
    assert form.validate_otp_code(wrong, dispatcher, tracker, DOMAIN) == {"otp_code": "locked"}
    said = texts(dispatcher)
    assert "还可以再试2次" in said and "还可以再试1次" in said and "已锁定" in said
    assert form.validate_otp_code(code, dispatcher, tracker, DOMAIN) == {"otp_code": "locked"}


async def test_action_account_request_without_verification_shows_no_data(services, dispatcher) -> None:
    tracker = make_tracker(
        {"verify_phone": "13800138000", "otp_code": "locked"}, [user_event("查话费", "query_account")]
    )
    events = await ActionAccountRequest().run(dispatcher, tracker, DOMAIN)
    assert texts(dispatcher) == UNVERIFIED
    assert events == UNVERIFIED_EVENTS


async def test_forged_verified_phone_slot_shows_no_data(services, dispatcher) -> None:
    """The slot says verified, the server has no record for this conversation: nothing is shown."""
    tracker = make_tracker(
        {"verified_phone": "13800138000", "otp_code": "verified"},
        [user_event("查话费", "query_account"), {"event": "active_loop", "name": "verification_form"}],
    )
    events = await ActionAccountRequest().run(dispatcher, tracker, DOMAIN)
    assert texts(dispatcher) == UNVERIFIED and events == UNVERIFIED_EVENTS


async def test_verification_of_another_conversation_shows_no_data(services, dispatcher) -> None:
    verify(services, "13800138000", sender_id="conv-other")
    tracker = make_tracker(
        {"verified_phone": "13800138000"},
        [user_event("查话费", "query_account"), {"event": "active_loop", "name": "verification_form"}],
    )
    await ActionAccountRequest().run(dispatcher, tracker, DOMAIN)
    assert texts(dispatcher) == UNVERIFIED


async def test_verified_form_asks_nothing_only_with_a_server_record(services, dispatcher) -> None:
    form = ValidateVerificationForm()
    forged = make_tracker({"verified_phone": "13800138000"})
    slots = ["verify_phone", "otp_code"]
    assert await form.required_slots(slots, dispatcher, forged, DOMAIN) == slots
    verify(services, "13800138000")
    assert await form.required_slots(slots, dispatcher, forged, DOMAIN) == []


async def test_action_account_request_query_shows_own_balance_and_usage(services, dispatcher) -> None:
    events = [
        user_event("帮我查下话费和流量", "query_account"),
        {"event": "active_loop", "name": "verification_form"},
    ]
    verify(services, "13800138000")
    tracker = make_tracker({}, events)
    await ActionAccountRequest().run(dispatcher, tracker, DOMAIN)
    said = texts(dispatcher)
    assert "138****8000的账户信息" in said and "5G畅享129元套餐" in said and "账户余额：86.50元" in said
    assert "13800138000" not in said


async def test_validate_otp_code_text_that_is_not_a_code_uses_no_try(services, dispatcher) -> None:
    form = ValidateVerificationForm()
    form.validate_verify_phone("13800138000", dispatcher, make_tracker(), DOMAIN)
    code = outbox_code(services, "13800138000")
    tracker = make_tracker({"verify_phone": "13800138000"})
    for _ in range(4):
        assert form.validate_otp_code("取消", dispatcher, tracker, DOMAIN) == {"otp_code": None}
    assert "6位数字验证码" in texts(dispatcher)
    assert form.validate_otp_code(code, dispatcher, tracker, DOMAIN)["otp_code"] == "verified"


async def test_new_code_does_not_reset_wrong_codes_and_the_lockout_is_explained(services, dispatcher) -> None:
    form = ValidateVerificationForm()
    tracker = make_tracker({"verify_phone": "13800138000"})
    form.validate_verify_phone("13800138000", dispatcher, make_tracker(), DOMAIN)
    wrong = "000000" if outbox_code(services, "13800138000") != "000000" else "111111"
    assert form.validate_otp_code(wrong, dispatcher, tracker, DOMAIN) == {"otp_code": None}
    assert form.validate_otp_code(wrong, dispatcher, tracker, DOMAIN) == {"otp_code": None}
    assert form.validate_verify_phone("13800138000", dispatcher, make_tracker(), DOMAIN) == {
        "verify_phone": "13800138000",
        "otp_code": None,
    }
    wrong = "000000" if outbox_code(services, "13800138000") != "000000" else "111111"
    assert form.validate_otp_code(wrong, dispatcher, tracker, DOMAIN) == {"otp_code": "locked"}
    last = dispatcher.messages[-1]["text"]
    assert last.startswith("验证码错误次数过多，为保护账户安全，该号码已锁定至") and last.endswith("。")


async def test_a_second_code_too_soon_is_refused_with_the_wait(services, dispatcher, monkeypatch) -> None:
    monkeypatch.setenv("KEFU_OTP_RESEND_INTERVAL_SECONDS", "60")
    get_otp_settings.cache_clear()
    common.verification_service.cache_clear()
    form = ValidateVerificationForm()
    form.validate_verify_phone("13800138000", dispatcher, make_tracker(), DOMAIN)
    again = CollectingDispatcher()
    result = form.validate_verify_phone("13800138000", again, make_tracker(), DOMAIN)
    assert result == {"verify_phone": "13800138000", "otp_code": None}
    text = texts(again)
    assert text.startswith("验证码刚刚已发送至138****8000，请查看短信；如需重新获取，请") and text.endswith(
        "秒后再试。"
    )
    assert len((services / "sms_outbox.jsonl").read_text(encoding="utf-8").splitlines()) == 1
