"""The customer conversation API as a web client sees it (Rasa not running)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.main import create_app
from tests.customer_api import gateway_settings, remember_customer_tokens


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = gateway_settings(tmp_path)  # the bot is down
    with TestClient(create_app(settings)) as test_client:
        remember_customer_tokens(test_client)
        yield test_client


def _conversation(client: TestClient) -> str:
    response = client.post("/api/conversations")
    assert response.status_code == 201
    return str(response.json()["conversation_id"])


def test_create_conversation_returns_unguessable_ids(client: TestClient) -> None:
    ids = {_conversation(client) for _ in range(5)}
    assert len(ids) == 5
    assert all(len(i) >= 20 for i in ids)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": ""}, "empty_message"),
        ({"text": "   \n "}, "empty_message"),
        ({"text": "好" * 2001}, "message_too_long"),
        ({"txt": "你好"}, "invalid_request"),
        ({"text": 5}, "invalid_request"),
    ],
)
def test_send_message_rejects_bad_input_with_bilingual_error(
    client: TestClient, body: object, code: str
) -> None:
    cid = _conversation(client)
    response = client.post(f"/api/conversations/{cid}/messages", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code
    assert " / " in error["message"]  # Chinese / English
    history = client.get(f"/api/conversations/{cid}/messages").json()["messages"]
    assert history == []  # nothing half-stored


@pytest.mark.parametrize("raw", [b"not json", b"", b"[1, 2]", b'{"text": '])
def test_send_message_rejects_non_json_body(client: TestClient, raw: bytes) -> None:
    cid = _conversation(client)
    response = client.post(
        f"/api/conversations/{cid}/messages", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_json"


def test_message_of_2000_characters_is_accepted(client: TestClient) -> None:
    cid = _conversation(client)
    response = client.post(f"/api/conversations/{cid}/messages", json={"text": "网" * 2000})
    assert response.status_code == 200


def test_unknown_conversation_is_404(client: TestClient) -> None:
    token = {"X-Customer-Token": client.app.state.customer_tokens.issue("nope")}  # type: ignore[attr-defined]
    assert (
        client.post("/api/conversations/nope/messages", json={"text": "你好"}, headers=token).status_code
        == 404
    )
    assert client.get("/api/conversations/nope/messages", headers=token).status_code == 404
    assert client.get("/api/conversations/nope/messages").status_code == 401  # no token: not even a lookup


def test_bot_down_gives_honest_reply_and_human_offer(client: TestClient) -> None:
    cid = _conversation(client)
    body = client.post(f"/api/conversations/{cid}/messages", json={"text": "你好"}).json()
    assert body["handled_by"] == "bot"
    [reply] = body["messages"]
    assert reply["sender"] == "system"
    assert "暂时无法回复" in reply["text"]
    assert reply["buttons"] == [{"title": "转人工客服", "payload": "/request_human"}]


def test_clicked_button_shows_its_title_in_history(client: TestClient) -> None:
    """A reload (or the agent console) shows 「转人工客服」, not the payload the click sent."""
    cid = _conversation(client)
    client.post(f"/api/conversations/{cid}/messages", json={"text": "你好"})
    client.post(f"/api/conversations/{cid}/messages", json={"text": "/request_human"})
    history = client.get(f"/api/conversations/{cid}/messages").json()["messages"]
    clicked = [m for m in history if m["sender"] == "customer"][-1]
    assert clicked["text"] == "/request_human"  # what the bot gets
    assert clicked["custom"]["display"] == "转人工客服"  # what people see
    typed = next(m for m in history if m["sender"] == "customer")
    assert "display" not in typed["custom"]


def test_history_after_seq_returns_only_newer_messages(client: TestClient) -> None:
    cid = _conversation(client)
    client.post(f"/api/conversations/{cid}/messages", json={"text": "第一条"})
    client.post(f"/api/conversations/{cid}/messages", json={"text": "第二条"})
    everything = client.get(f"/api/conversations/{cid}/messages").json()["messages"]
    assert [m["seq"] for m in everything] == [1, 2, 3, 4]
    assert [m["sender"] for m in everything] == ["customer", "system", "customer", "system"]
    newer = client.get(f"/api/conversations/{cid}/messages?after=2").json()["messages"]
    assert next(m["text"] for m in newer) == "第二条"
    assert client.get(f"/api/conversations/{cid}/messages?after=-1").status_code == 422


def test_retry_with_same_client_id_is_stored_once(client: TestClient) -> None:
    cid = _conversation(client)
    body = {"text": "宽带断了", "client_msg_id": "c-1"}
    first = client.post(f"/api/conversations/{cid}/messages", json=body).json()
    second = client.post(f"/api/conversations/{cid}/messages", json=body).json()
    assert first["messages"] == second["messages"]
    history = client.get(f"/api/conversations/{cid}/messages").json()["messages"]
    assert [m["text"] for m in history if m["sender"] == "customer"] == ["宽带断了"]


def test_websocket_resumes_after_seq_and_accepts_messages(client: TestClient) -> None:
    cid = _conversation(client)
    client.post(f"/api/conversations/{cid}/messages", json={"text": "第一条"})
    token = client.app.state.customer_tokens.issue(cid)  # type: ignore[attr-defined]
    with client.websocket_connect(f"/ws/conversations/{cid}?after=1&token={token}") as ws:
        assert ws.receive_json() == {"type": "state", "handled_by": "bot"}
        backlog = ws.receive_json()
        assert backlog["message"]["seq"] == 2
        ws.send_json({"type": "message", "text": "还在吗", "client_msg_id": "w-1"})
        seqs = []
        while len(seqs) < 2:
            event = ws.receive_json()
            if event["type"] == "message":
                seqs.append(event["message"]["seq"])
        assert seqs == [3, 4]


def test_websocket_refuses_foreign_origin(client: TestClient) -> None:
    cid = _conversation(client)
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as info,
        client.websocket_connect(
            f"/ws/conversations/{cid}", headers={"origin": "https://evil.example"}
        ) as ws,
    ):
        ws.receive_json()
    assert info.value.code == 1008


def test_healthz_names_failing_components(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["components"]["database"] == "ok"
    assert set(body["failing"]) == {"rasa", "actions", "index"}
