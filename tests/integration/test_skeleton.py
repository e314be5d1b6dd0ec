"""The walking skeleton, end to end: three real services on loopback, one conversation."""

from __future__ import annotations

import json
import re
from urllib.request import urlopen

import pytest

from tests.conftest import LiveStack

pytestmark = pytest.mark.integration


def _texts(reply: dict[str, object]) -> str:
    return "\n".join(str(m["text"]) for m in reply["messages"])  # type: ignore[attr-defined]


def _offers_human(reply: dict[str, object]) -> bool:
    for message in reply["messages"]:  # type: ignore[attr-defined]
        if "人工" in message["text"]:
            return True
        if any("request_human" in b["payload"] or "人工" in b["title"] for b in message["buttons"]):
            return True
    return False


def test_healthz_reports_every_component_ok(live_stack: LiveStack) -> None:
    status, body = live_stack.request("GET", "/healthz")
    assert status == 200
    assert body["components"] == {"rasa": "ok", "actions": "ok", "index": "ok", "database": "ok"}


def test_greeting_gets_a_greeting(live_stack: LiveStack) -> None:
    cid = live_stack.new_conversation()
    reply = live_stack.say(cid, "你好")
    assert reply["handled_by"] == "bot"
    assert reply["messages"], "the bot said nothing"
    assert all(m["sender"] == "bot" for m in reply["messages"])
    assert re.search(r"您好|你好|欢迎", _texts(reply))


def test_service_standard_question_is_answered_with_a_cited_section(live_stack: LiveStack) -> None:
    cid = live_stack.new_conversation()
    reply = live_stack.say(cid, "办新号要带什么证件啊")
    citations = [c for m in reply["messages"] for c in m["citations"]]
    assert citations, f"no citation in {reply}"
    assert all(re.fullmatch(r"\d+(\.\d+)+", c["section"]) for c in citations)
    assert "身份证" in _texts(reply)


def test_out_of_scope_message_gets_honest_reply_and_human_offer(live_stack: LiveStack) -> None:
    cid = live_stack.new_conversation()
    reply = live_stack.say(cid, "帮我写一首关于春天的诗吧")
    assert reply["handled_by"] == "bot"
    assert reply["messages"]
    assert _offers_human(reply)


def test_history_lists_customer_and_bot_messages_in_order(live_stack: LiveStack) -> None:
    cid = live_stack.new_conversation()
    live_stack.say(cid, "你好")
    status, body = live_stack.request("GET", f"/api/conversations/{cid}/messages?after=0")
    assert status == 200
    seqs = [m["seq"] for m in body["messages"]]
    assert seqs == sorted(seqs) and seqs[0] == 1
    assert body["messages"][0] == {**body["messages"][0], "sender": "customer", "text": "你好"}
    assert any(m["sender"] == "bot" for m in body["messages"][1:])


def test_rasa_restart_keeps_the_conversation(live_stack: LiveStack) -> None:
    cid = live_stack.new_conversation()
    live_stack.say(cid, "我家宽带断网了")
    live_stack.supervisor.restart("rasa")
    reply = live_stack.say(cid, "你好")
    assert all(m["sender"] != "system" for m in reply["messages"]), reply
    token = live_stack.supervisor.env["KEFU_RASA_TOKEN"]
    tracker_url = f"{live_stack.settings.rasa_url}/conversations/{cid}/tracker?token={token}"
    with urlopen(tracker_url, timeout=30) as response:
        tracker = json.loads(response.read())
    said = [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
    assert "我家宽带断网了" in said and "你好" in said
