"""Finding 6: after a real chat with a phone number and an SMS code, no log file holds either."""

from __future__ import annotations

import re
import stat

from tests.conftest import LiveStack

PHONE = "18600186000"
FULL_WIDTH = PHONE.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _text(reply: dict[str, object]) -> str:
    return "\n".join(str(m["text"]) for m in reply["messages"])  # type: ignore[attr-defined]


def _first(reply: dict[str, object]) -> str:
    """The bot's first message of a turn (a form may add its next question after it)."""
    return str(reply["messages"][0]["text"])  # type: ignore[index]


def test_logs_hold_no_full_phone_id_card_or_code(live_stack: LiveStack) -> None:
    cid = live_stack.new_conversation()
    live_stack.say(cid, "查一下我的话费余额")
    assert _first(live_stack.say(cid, FULL_WIDTH)) == "验证码已发送至186****6000，5分钟内有效。"
    code = live_stack.sms_code(PHONE)
    said = _text(live_stack.say(cid, f"验证码是{code}"))
    assert "身份验证成功。" in said and "186****6000的账户信息：" in said
    live_stack.say(cid, "我的身份证是110101199003071234，银行卡6222 0212 3456 7890，电话186 0018 6000")

    logs = {
        p.name: p.read_text(encoding="utf-8", errors="replace")
        for p in (live_stack.var_dir / "logs").glob("*.log")
    }
    assert {"actions.log", "gateway.log", "rasa.log"} <= set(logs)
    for name, text in logs.items():
        digits_only = re.sub(r"[\s\-]", "", text)  # spaced numbers joined up again
        for secret in (PHONE, FULL_WIDTH, "110101199003071234", "6222021234567890"):
            assert secret not in text and secret not in digits_only, (name, secret)
        assert not re.search(rf"(?<!\d){code}(?!\d)", text), (name, "the SMS code")
    outbox = live_stack.var_dir / "sms_outbox.jsonl"
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o600
