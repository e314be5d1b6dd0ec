"""Finding 8: bodies, request rates, conversations per IP, messages per conversation and WebSocket
frames are bounded; what is refused gets 413 / 429 with Retry-After / a close code, unparsed."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.integration.channel_fixtures import ChannelStack
from tests.security.public_gateway import Customer, start_public_stack

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChannelStack]:
    yield from start_public_stack(
        tmp_path,
        monkeypatch,
        MAX_BODY_BYTES="8192",
        RATE_CONVERSATIONS_PER_IP_HOUR="3",
        RATE_MESSAGES_PER_CONVERSATION_MINUTE="4",
        WS_MAX_FRAME_BYTES="4096",
        WS_FRAMES_PER_MINUTE="6",
    )


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limited"
    return int(response.headers["Retry-After"])


def test_a_1mb_body_is_refused_413_before_it_is_parsed(stack: ChannelStack) -> None:
    customer = Customer(stack.url)
    big = json.dumps({"text": "好" * 500_000}).encode()
    response = customer.http.post(
        f"/api/conversations/{customer.id}/messages",
        content=big,
        headers={**customer.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert customer.history().json()["messages"] == []


def test_a_chunked_body_is_counted_as_it_streams(stack: ChannelStack) -> None:
    customer = Customer(stack.url)

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'"}'

    response = customer.http.post(
        f"/api/conversations/{customer.id}/messages",
        content=chunks(),
        headers={**customer.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert customer.history().json()["messages"] == []


def test_a_lying_content_length_does_not_hang_or_crash(stack: ChannelStack) -> None:
    host, port = stack.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/conversations HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
            b"Content-Type: application/json\r\n\r\n{}"
        )
        answer = sock.recv(200)
    assert answer.startswith(b"HTTP/1.1 413")


def test_conversations_per_ip_are_capped_with_retry_after(stack: ChannelStack) -> None:
    for _ in range(3):
        Customer(stack.url)
    response = httpx.post(stack.url + "/api/conversations", timeout=10)
    assert _retry_after(response) > 60  # refilled over the hour


def test_messages_per_conversation_are_capped_with_retry_after(stack: ChannelStack) -> None:
    customer = Customer(stack.url)
    for n in range(4):
        assert customer.say(f"第{n}条").status_code == 200
    assert _retry_after(customer.say("再来一条")) >= 1
    customers = [m for m in customer.history().json()["messages"] if m["sender"] == "customer"]
    assert len(customers) == 4


def test_websocket_frame_over_the_cap_closes_1009_and_stores_nothing(stack: ChannelStack) -> None:
    customer = Customer(stack.url)
    with connect(customer.ws_url(stack.url), open_timeout=10) as ws:
        ws.recv(10)
        ws.send(json.dumps({"type": "message", "text": "宽" * 3000}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert customer.history().json()["messages"] == []


def test_websocket_frame_rate_is_capped(stack: ChannelStack) -> None:
    customer = Customer(stack.url)
    with connect(customer.ws_url(stack.url), open_timeout=10) as ws:
        ws.recv(10)
        for _ in range(10):
            ws.send(json.dumps({"type": "ping"}))
        replies = [json.loads(ws.recv(10)) for _ in range(10)]
    assert [r["type"] for r in replies].count("pong") == 6
    assert [r["error"]["code"] for r in replies if r["type"] == "error"] == ["rate_limited"] * 4


def test_requests_per_ip_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for small in start_public_stack(tmp_path, monkeypatch, RATE_REQUESTS_PER_IP_MINUTE="5"):
        customer = Customer(small.url)
        statuses = [customer.history().status_code for _ in range(6)]
        assert statuses[:4] == [200] * 4  # the creation was the first of five
        assert statuses[4:] == [429, 429]
        response = customer.history()
        assert _retry_after(response) >= 1
        assert httpx.get(small.url + "/", timeout=10).status_code == 200  # the page itself is not counted
