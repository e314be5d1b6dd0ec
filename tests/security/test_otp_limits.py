"""Finding 3: wrong codes count per phone across new codes; no second code within the interval."""

from __future__ import annotations

import json
from datetime import timedelta

from accounts.models import OtpCode
from kefu.db import make_engine, make_session_factory, session_scope
from tests.conftest import LiveStack


def _text(reply: dict[str, object]) -> str:
    return "\n".join(str(m["text"]) for m in reply["messages"])  # type: ignore[attr-defined]


def _first(reply: dict[str, object]) -> str:
    """The bot's first message of a turn (a form may add its next question after it)."""
    return str(reply["messages"][0]["text"])  # type: ignore[index]


def _wrong(live_stack: LiveStack, phone: str) -> str:
    return "000000" if live_stack.sms_code(phone) != "000000" else "111111"


def _age_last_code(live_stack: LiveStack, phone: str, seconds: int) -> None:
    """Move the last code's send time back, instead of waiting out the resend interval."""
    engine = make_engine(live_stack.settings.database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            otp = session.get(OtpCode, phone)
            assert otp is not None and otp.sent_at is not None
            otp.sent_at = otp.sent_at - timedelta(seconds=seconds)
    finally:
        engine.dispose()


def _start_verification(live_stack: LiveStack, phone: str) -> tuple[str, str]:
    cid = live_stack.new_conversation()
    assert "手机号" in _text(live_stack.say(cid, "查一下我的话费余额"))
    return cid, _first(live_stack.say(cid, phone))


def test_two_wrong_a_new_code_and_one_more_wrong_lock_the_phone(live_stack: LiveStack) -> None:
    phone = "13600136000"
    first, said = _start_verification(live_stack, phone)
    assert said == "验证码已发送至136****6000，5分钟内有效。"
    assert _first(live_stack.say(first, _wrong(live_stack, phone))) == "验证码不正确，您还可以再试2次。"
    assert _first(live_stack.say(first, _wrong(live_stack, phone))) == "验证码不正确，您还可以再试1次。"

    _age_last_code(live_stack, phone, 61)
    second, said = _start_verification(live_stack, phone)  # a new conversation, a new code
    assert said == "验证码已发送至136****6000，5分钟内有效。"
    reply = live_stack.say(second, _wrong(live_stack, phone))
    said = _first(reply)
    assert said.startswith("验证码错误次数过多，为保护账户安全，该号码已锁定至")
    assert "余额" not in _text(reply)

    _, said = _start_verification(live_stack, phone)
    assert said.startswith("该号码验证失败次数过多，已暂时锁定，请在") and "余额" not in said


def test_a_second_code_within_the_interval_is_refused(live_stack: LiveStack) -> None:
    phone = "15000150000"
    _, said = _start_verification(live_stack, phone)
    assert said == "验证码已发送至150****0000，5分钟内有效。"
    _, said = _start_verification(live_stack, phone)
    assert said.startswith("验证码刚刚已发送至150****0000，请查看短信；如需重新获取，请") and said.endswith(
        "秒后再试。"
    )
    outbox = (live_stack.var_dir / "sms_outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["phone"] for line in outbox].count(phone) == 1
