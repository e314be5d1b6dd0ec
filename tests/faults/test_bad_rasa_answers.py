"""The gateway against a Rasa that answers garbage, nothing, errors, or is away and comes back.

A fake Rasa HTTP server on loopback stands in for Rasa (a real Rasa cannot be made to answer
garbage on purpose); the gateway is the real app with a real database.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.conversations import OutgoingMessage
from gateway.main import create_app
from gateway.routing import ACTION_FAILED_TEXT, RASA_BACKLOG_TEXT, RASA_DOWN_TEXT
from kefu.message_metadata import GATEWAY_MESSAGE_ID
from tests.conftest import free_port
from tests.customer_api import gateway_settings, remember_customer_tokens

pytestmark = pytest.mark.faults


class FakeRasa:
    """``mode`` picks the answer: ok, empty, garbage, not_list, error, down (connection refused)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.received: list[str] = []
        self.message_ids: list[object] = []  # kefu_message_id of each message received
        self.port = free_port()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # /status
                self._send(200, json.dumps({"model_file": "kefu.tar.gz"}).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                message = body["message"]
                fake.received.append(message)
                fake.message_ids.append((body.get("metadata") or {}).get(GATEWAY_MESSAGE_ID))
                if fake.mode == "empty":
                    self._send(200, b"[]")
                elif fake.mode == "garbage":
                    self._send(200, b"<html>502 Bad Gateway</html>", "text/html")
                elif fake.mode == "not_list":
                    self._send(200, b'{"oops": true}')
                elif fake.mode == "error":
                    self._send(500, b'{"error": "boom"}')
                else:
                    self._send(200, json.dumps([{"text": f"收到：{message}"}], ensure_ascii=False).encode())

        self._handler = Handler
        self._server: ThreadingHTTPServer | None = None
        self.up()

    def up(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        self._server = None


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa()
    yield fake
    if fake._server is not None:
        fake.down()


@pytest.fixture
def client(tmp_path: Path, rasa: FakeRasa) -> Iterator[TestClient]:
    settings = gateway_settings(
        tmp_path, f"http://127.0.0.1:{rasa.port}", rasa_timeout_seconds=3, action_timeout_seconds=1
    )
    with TestClient(create_app(settings)) as test_client:
        remember_customer_tokens(test_client)
        yield test_client


def _say(client: TestClient, cid: str, text: str) -> dict[str, Any]:
    response = client.post(f"/api/conversations/{cid}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _history(client: TestClient, cid: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/conversations/{cid}/messages").json()["messages"])


@pytest.mark.parametrize(
    ("mode", "apology"),
    [
        ("garbage", RASA_DOWN_TEXT),
        ("not_list", RASA_DOWN_TEXT),
        ("error", RASA_DOWN_TEXT),
        ("empty", ACTION_FAILED_TEXT),
    ],
)
def test_a_bad_answer_from_rasa_is_an_apology_with_a_human_button(
    client: TestClient, rasa: FakeRasa, mode: str, apology: str
) -> None:
    cid = client.post("/api/conversations").json()["conversation_id"]
    rasa.mode = mode
    reply = _say(client, cid, "宽带怎么收费")
    assert [m["text"] for m in reply["messages"]] == [apology]
    assert reply["messages"][0]["buttons"] == [{"title": "转人工客服", "payload": "/request_human"}]
    rasa.mode = "ok"
    assert _say(client, cid, "你好")["messages"][0]["text"] == "收到：你好"
    customer = [m["text"] for m in _history(client, cid) if m["sender"] == "customer"]
    assert customer == ["宽带怎么收费", "你好"]
    assert rasa.received == ["宽带怎么收费", "你好"]  # Rasa got it once: never re-sent


def test_messages_typed_while_rasa_is_down_are_answered_in_order_when_it_is_back(
    client: TestClient, rasa: FakeRasa
) -> None:
    cid = client.post("/api/conversations").json()["conversation_id"]
    rasa.down()
    first = _say(client, cid, "第一条")
    second = _say(client, cid, "第二条")
    assert [m["text"] for m in first["messages"]] == [RASA_BACKLOG_TEXT]
    assert [m["text"] for m in second["messages"]] == [RASA_BACKLOG_TEXT]
    health = client.get("/healthz").json()
    assert health["rasa_backlog"] == 2 and health["components"]["rasa"] == "down"
    rasa.up()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the rasa_backlog job answers without a new message
        bot = [m["text"] for m in _history(client, cid) if m["sender"] == "bot"]
        if len(bot) == 2:
            break
        time.sleep(0.5)
    assert bot == ["收到：第一条", "收到：第二条"]
    assert rasa.received == ["第一条", "第二条"]
    customer = [m for m in _history(client, cid) if m["sender"] == "customer"]
    assert [m["text"] for m in customer] == ["第一条", "第二条"]
    # Each replay names the stored message, so an action it triggers is keyed like the first try.
    assert rasa.message_ids == [m["seq"] for m in customer]
    assert client.get("/healthz").json()["rasa_backlog"] == 0


def test_a_new_message_after_rasa_returns_is_answered_after_the_kept_ones(
    client: TestClient, rasa: FakeRasa
) -> None:
    cid = client.post("/api/conversations").json()["conversation_id"]
    rasa.down()
    _say(client, cid, "早上好")
    rasa.up()
    reply = _say(client, cid, "在吗")  # may come before the backlog job: kept one goes first
    assert reply["messages"][-1]["text"] == "收到：在吗"
    bot = [m["text"] for m in _history(client, cid) if m["sender"] == "bot"]
    assert bot == ["收到：早上好", "收到：在吗"]
    assert rasa.received == ["早上好", "在吗"]


def test_background_jobs_are_visible_in_healthz(client: TestClient) -> None:
    jobs = client.get("/healthz").json()["jobs"]
    assert jobs["rasa_backlog"]["state"] == "running"
    assert jobs["overdue_tickets"]["state"] == "running"
    assert jobs["channel_dispatcher"]["state"] == "running"


def test_a_message_a_crashed_gateway_stored_but_never_answered_is_answered_at_start(
    tmp_path: Path, rasa: FakeRasa
) -> None:
    settings = gateway_settings(
        tmp_path, f"http://127.0.0.1:{rasa.port}", rasa_timeout_seconds=3, action_timeout_seconds=1
    )
    with TestClient(create_app(settings)) as first:
        tokens = remember_customer_tokens(first)
        cid = first.post("/api/conversations").json()["conversation_id"]
        store = first.app.state.store  # type: ignore[attr-defined]
        # What a gateway killed while Rasa was thinking leaves behind: the question, no answer.
        store.append(cid, OutgoingMessage(sender="customer", text="还在吗"), client_msg_id="c-1")
    with TestClient(create_app(settings)) as second:
        remember_customer_tokens(second).update(tokens)  # the same browser, after the restart
        deadline = time.monotonic() + 30
        while not [m for m in _history(second, cid) if m["sender"] == "bot"]:
            assert time.monotonic() < deadline, "the stored question was never answered"
            time.sleep(0.3)
        retry = second.post(
            f"/api/conversations/{cid}/messages", json={"text": "还在吗", "client_msg_id": "c-1"}
        )
        assert [m["text"] for m in retry.json()["messages"]] == ["收到：还在吗"]
        history = _history(second, cid)
    assert [(m["sender"], m["text"]) for m in history] == [("customer", "还在吗"), ("bot", "收到：还在吗")]
    assert rasa.received == ["还在吗"]
    assert rasa.message_ids == [history[0]["seq"]]  # the stored message's id, as its first try had
