"""Finding 7: bad input is refused with a clear 422 (or an error frame), never a 500, nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.integration.channel_fixtures import ChannelStack
from tests.security.public_gateway import Customer, start_public_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChannelStack]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from start_public_stack(tmp_path_factory.mktemp("input"), monkeypatch)


def _bilingual_422(response: httpx.Response, code: str | None = None) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert " / " in error["message"]  # 中文 / English
    if code:
        assert error["code"] == code


def test_lone_surrogate_and_nul_are_refused_and_not_stored(stack: ChannelStack) -> None:
    customer = Customer(stack.url)
    for raw in (b'{"text": "\\ud800"}', b'{"text": "abc\\udfffdef"}', b'{"text": "a\\u0000b"}'):
        response = customer.http.post(
            f"/api/conversations/{customer.id}/messages",
            content=raw,
            headers={**customer.headers, "Content-Type": "application/json"},
        )
        _bilingual_422(response, "invalid_text")
    assert customer.history().json()["messages"] == []
    assert not any(customer.id in json.dumps(c.body) for c in stack.rasa.calls)


@pytest.mark.parametrize(
    "rating",
    [
        '{"ticket_id": "TK20261201-1", "score": 1e999}',
        '{"ticket_id": "TK20261201-1", "score": NaN}',
        '{"ticket_id": "TK20261201-1", "score": -Infinity}',
        '{"ticket_id": "TK20261201-1", "score": "5"}',
        '{"ticket_id": "TK20261201-1", "score": 4.5}',
        '{"ticket_id": "TK20261201-1", "score": true}',
        '{"ticket_id": 7, "score": 5}',
        '{"ticket_id": "TK20261201-1", "score": 99999999999999999999999999}',
    ],
)
def test_malformed_rating_is_422(stack: ChannelStack, rating: str) -> None:
    customer = Customer(stack.url)
    _bilingual_422(customer.say("/rate_ticket" + rating), "invalid_rating")
    assert customer.history().json()["messages"] == []


@pytest.mark.parametrize("after", [2**63, 2**31, "1e23", -1, "1.5", "abc", ""])
def test_history_after_out_of_range_is_422(stack: ChannelStack, after: object) -> None:
    customer = Customer(stack.url)
    _bilingual_422(customer.history(after))


def test_history_after_at_the_top_of_the_range_is_fine(stack: ChannelStack) -> None:
    customer = Customer(stack.url)
    assert customer.history(2**31 - 1).json()["messages"] == []


@pytest.mark.parametrize("text", [None, 12345, {"a": 1}, ["a", "b"], True, 1e999])
def test_websocket_frame_with_non_text_gets_an_error_frame_and_nothing_is_stored(
    stack: ChannelStack, text: Any
) -> None:
    customer = Customer(stack.url)
    with connect(customer.ws_url(stack.url), open_timeout=10) as ws:
        assert json.loads(ws.recv(10))["type"] == "state"
        frame = json.dumps({"type": "message", "text": text, "client_msg_id": "x-1"}, allow_nan=True)
        ws.send(frame)
        reply = json.loads(ws.recv(10))
        assert reply["type"] == "error" and reply["error"]["code"] == "invalid_text", reply
        assert " / " in reply["error"]["message"]
        ws.send(json.dumps({"type": "message", "text": "你好", "client_msg_id": "x-2"}))
        while True:  # the socket still works: a valid message is answered
            event = json.loads(ws.recv(10))
            if event["type"] == "message" and event["message"]["sender"] == "bot":
                break
    history = customer.history().json()["messages"]
    assert [m["text"] for m in history if m["sender"] == "customer"] == ["你好"]


@pytest.mark.parametrize("after", ["9223372036854775808", "-1", "1e23", "x"])
def test_websocket_after_out_of_range_is_refused_cleanly(stack: ChannelStack, after: str) -> None:
    customer = Customer(stack.url)
    url = customer.ws_url(stack.url).replace("after=0", f"after={after}")
    with pytest.raises(Exception) as info, connect(url, open_timeout=10) as ws:
        ws.recv(10)
    assert "500" not in str(info.value)
    assert customer.history().status_code == 200
