"""kill -9 / freeze each real service mid-conversation: the customer gets an apology, never silence
or a 5xx; the supervisor brings the service back on its own; every customer message is stored once."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
import uuid
from typing import Any

import pytest

from gateway.routing import ACTION_FAILED_TEXT, RASA_BACKLOG_TEXT
from tests.faults.conftest import Faults

pytestmark = [pytest.mark.faults, pytest.mark.integration]

KB_QUESTION = "办新号要带什么证件啊"
TICKET_RE = re.compile(r"TK\d{8}-\d+")
HUMAN_BUTTON = {"title": "转人工客服", "payload": "/request_human"}


def _texts(reply: dict[str, Any]) -> list[str]:
    return [str(m["text"]) for m in reply["messages"]]


def _customer_texts(faults: Faults, cid: str) -> list[str]:
    return [m["text"] for m in faults.history(cid) if m["sender"] == "customer"]


def _say(faults: Faults, cid: str, text: str, client_msg_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if client_msg_id:
        body["client_msg_id"] = client_msg_id
    status, reply = faults.post(f"/api/conversations/{cid}/messages", body)
    assert status == 200, (status, reply)
    assert reply["messages"], "silence: the customer got no answer"
    return dict(reply)


def _is_apology(reply: dict[str, Any], text: str) -> bool:
    return any(m["text"] == text and HUMAN_BUTTON in m["buttons"] for m in reply["messages"])


def _in_background(fn: Any, *args: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn(*args)), daemon=True)
    thread.start()
    return thread, out


def _wait_stored(faults: Faults, cid: str, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in _customer_texts(faults, cid):
        assert time.monotonic() < deadline, "the customer's message was not stored"
        time.sleep(0.2)


FORM_ANSWERS = (
    ("什么故障", "宽带断网了"),
    ("哪个区", "海淀区中关村大街1号"),
    ("什么时候开始", "今天早上八点"),
    ("方便的时间", "明天上午"),
    ("联系电话", "13800138000"),
)


def _answer_form(faults: Faults, cid: str, reply: dict[str, Any]) -> str:
    """Answer the fault form to its end; returns the ticket number the customer is told."""
    for _ in range(8):
        said = "\n".join(_texts(reply))
        found = TICKET_RE.search(said)
        if found and "工单号" in said:
            return found.group(0)
        hits = [(said.rfind(key), answer) for key, answer in FORM_ANSWERS if key in said]
        answer = "确认" if "请确认" in said else (max(hits)[1] if hits else None)
        assert answer is not None, f"unexpected bot question: {said}"
        reply = _say(faults, cid, answer)
    raise AssertionError("no ticket number at the end of the form")


def test_action_server_killed_during_a_form_apology_then_the_form_goes_on(faults: Faults) -> None:
    cid = faults.stack.new_conversation()
    _say(faults, cid, "我家宽带断网了，帮我报修")
    before = faults.kill("actions")
    reply = _say(faults, cid, "13800138000")
    assert _is_apology(reply, ACTION_FAILED_TEXT), reply
    faults.wait_back("actions", before)
    reply = _say(faults, cid, "13800138000")
    assert not _is_apology(reply, ACTION_FAILED_TEXT), reply
    assert reply["handled_by"] == "bot"
    said = [_answer_form(faults, cid, reply)]
    assert _customer_texts(faults, cid)[:3] == ["我家宽带断网了，帮我报修", "13800138000", "13800138000"]
    with contextlib.closing(sqlite3.connect(faults.stack.var_dir / "kefu.db")) as db:
        tickets = db.execute("SELECT id FROM tickets_ticket WHERE conversation_id = ?", (cid,)).fetchall()
    assert [t[0] for t in tickets] == said  # one ticket, the one the customer was told about


def test_a_hung_action_server_gives_an_apology_not_silence(faults: Faults) -> None:
    cid = faults.stack.new_conversation()
    faults.freeze("actions")
    reply = _say(faults, cid, KB_QUESTION)  # Rasa gives up after KEFU_ACTION_TIMEOUT_SECONDS
    faults.thaw("actions")
    assert _is_apology(reply, ACTION_FAILED_TEXT), reply
    reply = _say(faults, cid, KB_QUESTION)
    assert any(m["citations"] for m in reply["messages"]), reply
    assert _customer_texts(faults, cid) == [KB_QUESTION, KB_QUESTION]


def test_rasa_killed_during_a_kb_answer_the_question_is_answered_when_it_is_back(faults: Faults) -> None:
    cid = faults.stack.new_conversation()
    faults.freeze("actions")  # keeps the KB answer in flight inside Rasa
    thread, out = _in_background(_say, faults, cid, KB_QUESTION)
    _wait_stored(faults, cid, KB_QUESTION)
    time.sleep(1.0)
    before = faults.kill("rasa")
    thread.join(60)
    faults.thaw("actions")
    assert out and _is_apology(out[0], RASA_BACKLOG_TEXT), out
    faults.wait_back("rasa", before)
    deadline = time.monotonic() + 60
    while not any(m["citations"] for m in faults.history(cid) if m["sender"] == "bot"):
        assert time.monotonic() < deadline, "the kept question was never answered"
        time.sleep(1)
    assert _customer_texts(faults, cid) == [KB_QUESTION]


def test_gateway_killed_during_a_kb_answer_the_retry_is_answered_once(faults: Faults) -> None:
    cid = faults.stack.new_conversation()
    client_id = uuid.uuid4().hex
    faults.freeze("actions")
    thread, out = _in_background(
        faults.post, f"/api/conversations/{cid}/messages", {"text": KB_QUESTION, "client_msg_id": client_id}
    )
    _wait_stored(faults, cid, KB_QUESTION)
    before = faults.kill("gateway")
    thread.join(60)
    faults.thaw("actions")
    assert out and out[0][0] == 0  # the connection died with the gateway: no 5xx was sent
    faults.wait_back("gateway", before)
    reply = _say(faults, cid, KB_QUESTION, client_msg_id=client_id)  # the web chat retries
    assert any(m["citations"] for m in reply["messages"]), reply
    again = _say(faults, cid, KB_QUESTION, client_msg_id=client_id)
    assert _texts(again) == _texts(reply)  # a second retry is the same answer, not a new turn
    assert _customer_texts(faults, cid) == [KB_QUESTION]
    _, health = faults.stack.request("GET", "/healthz")
    assert health["services"]["gateway"]["restarts"] >= 1
    assert health["services"]["gateway"]["state"] == "running"


def _agent_auth(faults: Faults, username: str) -> dict[str, str]:
    from gateway.agents.auth import AgentDirectory
    from gateway.agents.settings import AuthSettings
    from kefu.db import make_engine, make_session_factory

    engine = make_engine(faults.stack.settings.database_url)
    try:
        AgentDirectory(make_session_factory(engine), AuthSettings()).create(
            username, "agent-password-1", role="agent"
        )
    finally:
        engine.dispose()
    status, body = faults.stack.request(
        "POST", "/api/agent/login", {"username": username, "password": "agent-password-1"}
    )
    assert status == 200, body
    return {"Authorization": f"Bearer {body['token']}"}


def test_gateway_killed_during_an_agent_chat_the_agent_keeps_it_and_nothing_is_lost(
    faults: Faults,
) -> None:
    auth = _agent_auth(faults, f"agent-{uuid.uuid4().hex[:6]}")
    cid = faults.stack.new_conversation()
    assert _say(faults, cid, "转人工")["handled_by"] == "queue"
    status, body = faults.stack.request("POST", f"/api/agent/conversations/{cid}/claim", {}, auth)
    assert status == 200, body
    hello, later = "您好，我是人工客服，请讲。", "已经帮您查到了，稍等一下。"

    def agent_says(text: str) -> None:
        status, body = faults.stack.request(
            "POST", f"/api/agent/conversations/{cid}/messages", {"text": text}, auth
        )
        assert status == 201, body

    def customer_says(text: str) -> None:  # the agent answers in person: no reply in the response
        status, reply = faults.post(f"/api/conversations/{cid}/messages", {"text": text})
        assert status == 200 and reply["handled_by"] == "agent", (status, reply)

    agent_says(hello)
    customer_says("我的宽带一直掉线")
    before = faults.kill("gateway")
    faults.wait_back("gateway", before)
    # The chat is still the agent's: the agent's session and the conversation live in the database.
    customer_says("还在吗")
    agent_says(later)
    history = faults.history(cid)
    assert [m["text"] for m in history if m["sender"] == "agent"] == [hello, later]
    assert _customer_texts(faults, cid) == ["转人工", "我的宽带一直掉线", "还在吗"]
    assert len({m["seq"] for m in history}) == len(history)  # nothing stored twice


def test_a_locked_database_delays_the_answer_but_loses_nothing(faults: Faults) -> None:
    cid = faults.stack.new_conversation()
    locker = sqlite3.connect(faults.stack.var_dir / "kefu.db", timeout=10, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        thread, out = _in_background(_say, faults, cid, "你好")
        status, health = faults.stack.request("GET", "/healthz")
        assert status == 503 and health["components"]["database"] == "down"
        time.sleep(1.0)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    thread.join(60)
    assert out and out[0]["handled_by"] == "bot"
    assert all(m["sender"] == "bot" for m in out[0]["messages"]), out
    assert _customer_texts(faults, cid) == ["你好"]
