"""From a chat conversation to a stored ticket, and back through check_ticket with SMS verification."""

from __future__ import annotations

import re

import pytest

from tests.conftest import LiveStack

# No model or index: the live_stack fixture fails and says how to build them.
pytestmark = pytest.mark.integration

PHONE = "13800138000"
TICKET_RE = re.compile(r"TK\d{8}-\d+")

# What a customer answers to each form question, keyed by words of the question.
ANSWERS = (
    ("联系电话", PHONE),
    ("什么故障", "宽带断网了"),
    ("哪个区", "海淀区中关村大街1号"),
    ("什么时候开始", "今天早上八点"),
    ("方便的时间", "明天上午"),
    ("请确认", "确认"),
)


def _text(reply: dict[str, object]) -> str:
    return "\n".join(str(m["text"]) for m in reply["messages"])  # type: ignore[attr-defined]


def _answer(text: str) -> str | None:
    if "请确认" in text:  # the summary repeats the other questions' words
        return "确认"
    hits = [(text.rfind(key), answer) for key, answer in ANSWERS if key in text]
    return max(hits)[1] if hits else None


def test_fault_report_opens_ticket_and_check_ticket_shows_it_after_verification(
    live_stack: LiveStack,
) -> None:
    cid = live_stack.new_conversation()
    reply = live_stack.say(cid, "我家宽带断网了，帮我报修")
    ticket_id = None
    transcript = []
    for _ in range(10):
        said = _text(reply)
        transcript.append(said)
        found = TICKET_RE.search(said)
        if found and "工单号" in said:
            ticket_id = found.group(0)
            break
        answer = _answer(said)
        assert answer is not None, f"unexpected bot question: {said}"
        reply = live_stack.say(cid, answer)
    assert ticket_id, "no ticket number after the fault form:\n" + "\n---\n".join(transcript)
    assert "处理部门" in said and "预计处理时限" in said

    from kefu.db import make_engine, make_session_factory
    from tickets import TicketService

    engine = make_engine(live_stack.settings.database_url)
    try:
        stored = TicketService(make_session_factory(engine)).get(ticket_id)
        assert stored.id == ticket_id
    finally:
        engine.dispose()

    reply = live_stack.say(cid, "帮我查一下工单进度")
    assert "手机号" in _text(reply)
    reply = live_stack.say(cid, PHONE)
    assert "验证码已发送至138****8000" in _text(reply)
    reply = live_stack.say(cid, live_stack.sms_code(PHONE))
    said = _text(reply)
    assert "身份验证成功" in said and ticket_id in said
    assert PHONE not in said


def test_wrong_codes_never_show_account_data(live_stack: LiveStack) -> None:
    cid = live_stack.new_conversation()
    live_stack.say(cid, "查一下我的话费余额")
    live_stack.say(cid, "13900139000")
    code = live_stack.sms_code("13900139000")
    wrong = "000000" if code != "000000" else "111111"
    said = ""
    for _ in range(3):
        said += _text(live_stack.say(cid, wrong))
    assert "已锁定" in said and "余额" not in said


def test_after_an_agent_hands_back_the_fault_form_continues_with_its_slots(live_stack: LiveStack) -> None:
    from gateway.agents.auth import AgentDirectory
    from gateway.agents.settings import AuthSettings
    from kefu.db import make_engine, make_session_factory

    engine = make_engine(live_stack.settings.database_url)
    try:
        AgentDirectory(make_session_factory(engine), AuthSettings()).create(
            "laoli", "agent-password-1", role="agent"
        )
    finally:
        engine.dispose()
    cid = live_stack.new_conversation()
    reply = live_stack.say(cid, "我家宽带断网了，帮我报修")
    asked = _text(reply)
    assert "联系电话" in asked, asked
    reply = live_stack.say(cid, PHONE)
    question = _text(reply)

    # Escalation words mid-form: the gateway hands the chat to the queue at once.
    reply = live_stack.say(cid, "修了三次都没好，再不修好我就找律师")
    assert reply["handled_by"] == "queue"
    # The bot still took that message into the form; its question, if it asked one, is the current one.
    bot_said = "\n".join(m["text"] for m in reply["messages"] if m["sender"] == "bot")
    if _answer(bot_said) is not None:
        question = bot_said
    status, body = live_stack.request(
        "POST", "/api/agent/login", {"username": "laoli", "password": "agent-password-1"}
    )
    assert status == 200, body
    auth = {"Authorization": f"Bearer {body['token']}"}
    for action in ("claim", "release"):
        status, body = live_stack.request("POST", f"/api/agent/conversations/{cid}/{action}", {}, auth)
        assert status == 200, body

    # Back with the bot: it goes on from the question it had asked; the phone is not asked again.
    answer = _answer(question)
    assert answer is not None, question
    reply = live_stack.say(cid, answer)
    transcript = [question]
    ticket_id = None
    for _ in range(8):
        said = _text(reply)
        transcript.append(said)
        assert reply["handled_by"] == "bot"
        assert "请提供您的联系电话" not in said, "\n---\n".join(transcript)  # not asked again
        found = TICKET_RE.search(said)
        if found and "工单号" in said:
            ticket_id = found.group(0)
            break
        answer = _answer(said)
        assert answer is not None, "\n---\n".join(transcript)
        reply = live_stack.say(cid, answer)
    assert ticket_id, "\n---\n".join(transcript)


def _walk_form(
    live_stack: LiveStack, cid: str, reply: dict[str, object], answers: dict[str, str]
) -> tuple[str, list[str]]:
    """Answers the form's questions (keyed by words of the question) until a ticket number appears."""
    transcript: list[str] = []
    for _ in range(10):
        said = _text(reply)
        transcript.append(said)
        found = TICKET_RE.search(said)
        if found and "工单号" in said:
            return found.group(0), transcript
        if "请确认" in said:
            answer: str | None = "确认"
        else:
            hits = [(said.rfind(key), value) for key, value in answers.items() if key in said]
            answer = max(hits)[1] if hits else None
        assert answer is not None, "unexpected bot question:\n" + "\n---\n".join(transcript)
        reply = live_stack.say(cid, answer)
    raise AssertionError("no ticket number after the form:\n" + "\n---\n".join(transcript))


def _stored(live_stack: LiveStack, ticket_id: str) -> tuple[str, str]:
    from kefu.db import make_engine, make_session_factory
    from tickets import TicketService

    engine = make_engine(live_stack.settings.database_url)
    try:
        ticket = TicketService(make_session_factory(engine)).get(ticket_id)
        return ticket.category, ticket.description
    finally:
        engine.dispose()


def test_a_fault_in_traditional_characters_is_not_asked_again(live_stack: LiveStack) -> None:
    cid = live_stack.new_conversation()
    reply = live_stack.say(cid, "我家寬帶斷網了，從昨天晚上到現在都上不了網")
    answers = {key: value for key, value in ANSWERS if key != "什么故障"}
    ticket_id, transcript = _walk_form(live_stack, cid, reply, answers)
    assert not any("是什么故障" in said for said in transcript), "\n---\n".join(transcript)
    summary = next(said for said in transcript if "请确认" in said)
    assert "宽带断网" in summary
    assert _stored(live_stack, ticket_id)[0] == "fault"


def test_a_complaint_with_amounts_opens_a_complaint(live_stack: LiveStack) -> None:
    cid = live_stack.new_conversation()
    reply = live_stack.say(cid, "这个月莫名其妙扣了我600元，打10086也说不清楚，必须退给我")
    first = _text(reply)
    assert "联系电话" in first, first  # the complaint form's first question, not 「您想用这个号码办什么」
    answers = {
        "联系电话": PHONE,
        "发生了什么": "这个月莫名其妙扣了我600元",
        "怎样处理": "退还多扣的600元",
    }
    ticket_id, transcript = _walk_form(live_stack, cid, reply, answers)
    category, description = _stored(live_stack, ticket_id)
    assert category == "complaint"
    assert "600" in description, (description, transcript)
