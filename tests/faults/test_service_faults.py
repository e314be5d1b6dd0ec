"""kill -9 / freeze each real service mid-conversation: the customer gets an apology, never silence
or a 5xx; the supervisor brings the service back on its own; every customer message is stored once."""

from __future__ import annotations

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
    assert _customer_texts(faults, cid) == ["我家宽带断网了，帮我报修", "13800138000", "13800138000"]


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
