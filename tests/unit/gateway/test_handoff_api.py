"""The agent API as the console uses it, on a fresh database (Rasa not running: the gateway
still lets a customer reach a human)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from accounts.models import ConversationVerification
from gateway.agents.auth import AgentDirectory
from gateway.main import create_app
from kefu.db import session_scope
from tests.customer_api import gateway_settings, remember_customer_tokens

PASSWORD = "correct-horse-9"


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KEFU_HANDOFF_WORKING_HOURS", "00:00-24:00")
    monkeypatch.setenv("KEFU_TICKETS_API_TOKEN", "")
    settings = gateway_settings(tmp_path)  # the bot is down
    with TestClient(create_app(settings)) as test_client:
        remember_customer_tokens(test_client)
        directory: AgentDirectory = test_client.app.state.agent_directory  # type: ignore[attr-defined]
        directory.create("wang", PASSWORD, role="agent", display_name="小王")
        directory.create("li", PASSWORD, role="agent")
        directory.create("zhao", PASSWORD, role="supervisor")
        yield test_client


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/agent/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def queued_conversation(client: TestClient) -> str:
    cid = str(client.post("/api/conversations").json()["conversation_id"])
    reply = client.post(f"/api/conversations/{cid}/messages", json={"text": "/request_human"}).json()
    assert reply["handled_by"] == "queue"
    return cid


def history(client: TestClient, cid: str, after: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/conversations/{cid}/messages?after={after}").json()
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/agent/queue"),
        ("GET", "/api/agent/conversations"),
        ("POST", "/api/agent/conversations/x/claim"),
        ("POST", "/api/agent/conversations/x/messages"),
        ("POST", "/api/agent/conversations/x/release"),
        ("POST", "/api/agent/conversations/x/resolve"),
        ("GET", "/api/agent/conversations/x/assist"),
        ("GET", "/api/tickets"),
        ("GET", "/api/tickets/TK20261128-0001"),
    ],
)
def test_staff_endpoints_without_valid_token_answer_401(client: TestClient, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-session"}, {"Authorization": "Basic abc"}):
        response = client.request(method, path, headers=headers, json={"text": "x"})
        assert response.status_code == 401, (path, headers, response.text)
        assert " / " in response.json()["error"]["message"]


def test_login_with_wrong_password_is_401_and_locks_after_five_failures(client: TestClient) -> None:
    for _ in range(5):
        response = client.post("/api/agent/login", json={"username": "wang", "password": "wrong-password"})
        assert response.status_code == 401
    locked = client.post("/api/agent/login", json={"username": "wang", "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "登录失败次数过多" in locked.json()["error"]["message"]


def test_customer_request_reaches_queue_with_position_even_when_bot_is_down(client: TestClient) -> None:
    cid = queued_conversation(client)
    texts = [m["text"] for m in history(client, cid)["messages"]]
    assert any("排在第 1 位" in t and "预计等待" in t for t in texts)
    again = client.post(f"/api/conversations/{cid}/messages", json={"text": "还要等多久？"}).json()
    assert again["handled_by"] == "queue"
    assert "第 1 位" in again["messages"][0]["text"]
    queue = client.get("/api/agent/queue", headers=login(client, "wang")).json()
    assert [i["conversation_id"] for i in queue["items"]] == [cid]
    assert queue["items"][0]["reason"] == "request_human"
    assert queue["items"][0]["last_customer_text"] == "还要等多久？"


def test_queue_orders_escalation_before_earlier_plain_requests(client: TestClient) -> None:
    plain = queued_conversation(client)
    risky = str(client.post("/api/conversations").json()["conversation_id"])
    reply = client.post(
        f"/api/conversations/{risky}/messages", json={"text": "再不解决我就去工信部投诉"}
    ).json()
    assert reply["handled_by"] == "queue"
    assert "优先" in reply["messages"][-1]["text"]
    items = client.get("/api/agent/queue", headers=login(client, "wang")).json()["items"]
    assert [i["conversation_id"] for i in items] == [risky, plain]
    assert items[0]["reason"] == "escalation"


def test_agent_claims_replies_and_customer_sees_agent_message(client: TestClient) -> None:
    cid = queued_conversation(client)
    wang = login(client, "wang")
    claimed = client.post(f"/api/agent/conversations/{cid}/claim", headers=wang)
    assert claimed.status_code == 200
    assert claimed.json()["assigned_agent"] == "wang"
    seq = history(client, cid)["messages"][-1]["seq"]
    sent = client.post(
        f"/api/agent/conversations/{cid}/messages", headers=wang, json={"text": "您好，我是小王"}
    )
    assert sent.status_code == 201
    seen = history(client, cid, after=seq)
    assert seen["handled_by"] == "agent"
    assert [(m["sender"], m["text"]) for m in seen["messages"]] == [("agent", "您好，我是小王")]
    # While the agent holds it, the customer's messages are answered by nobody else.
    reply = client.post(f"/api/conversations/{cid}/messages", json={"text": "好的谢谢"}).json()
    assert reply == {"messages": [], "handled_by": "agent"}
    assert client.get("/api/agent/queue", headers=wang).json()["items"] == []


def test_console_transcript_shows_button_labels_with_numbers_masked(client: TestClient) -> None:
    cid = queued_conversation(client)
    rating = '/rate_ticket{"ticket_id": "TK20261128-0001", "score": 2, "comment": "回电13812345678"}'
    client.post(f"/api/conversations/{cid}/messages", json={"text": rating})
    wang = login(client, "wang")
    client.post(f"/api/agent/conversations/{cid}/claim", headers=wang)
    messages = client.get(f"/api/agent/conversations/{cid}", headers=wang).json()["messages"]
    shown = [m["custom"]["display"] for m in messages if m["sender"] == "customer" and m["custom"]]
    assert "评分：★★☆☆☆ 回电138****5678" in shown
    assert "13812345678" not in str(messages)


def test_second_agent_cannot_claim_or_write_into_a_held_conversation(client: TestClient) -> None:
    cid = queued_conversation(client)
    wang, li = login(client, "wang"), login(client, "li")
    assert client.post(f"/api/agent/conversations/{cid}/claim", headers=wang).status_code == 200
    assert client.post(f"/api/agent/conversations/{cid}/claim", headers=li).status_code == 409
    write = client.post(f"/api/agent/conversations/{cid}/messages", headers=li, json={"text": "插话"})
    assert write.status_code == 403
    assert client.post(f"/api/agent/conversations/{cid}/release", headers=li).status_code == 403
    assert client.get(f"/api/agent/conversations/{cid}", headers=li).status_code == 403
    assert all(m["text"] != "插话" for m in history(client, cid)["messages"])


def test_writing_into_a_conversation_not_claimed_is_403(client: TestClient) -> None:
    cid = queued_conversation(client)
    response = client.post(
        f"/api/agent/conversations/{cid}/messages", headers=login(client, "wang"), json={"text": "你好"}
    )
    assert response.status_code == 403


def test_release_hands_the_conversation_back_to_the_bot(client: TestClient) -> None:
    cid = queued_conversation(client)
    wang = login(client, "wang")
    client.post(f"/api/agent/conversations/{cid}/claim", headers=wang)
    released = client.post(f"/api/agent/conversations/{cid}/release", headers=wang)
    assert released.json()["state"] == "bot"
    after = history(client, cid)
    assert after["handled_by"] == "bot"
    assert "智能助手将继续为您服务" in after["messages"][-1]["text"]
    # The bot (here: down) answers the next message again, not the queue.
    reply = client.post(f"/api/conversations/{cid}/messages", json={"text": "查话费"}).json()
    assert reply["handled_by"] == "bot"


def test_resolve_ends_the_service_and_is_audited(client: TestClient) -> None:
    cid = queued_conversation(client)
    wang = login(client, "wang")
    client.post(f"/api/agent/conversations/{cid}/claim", headers=wang)
    client.post(f"/api/agent/conversations/{cid}/messages", headers=wang, json={"text": "已为您处理"})
    assert client.post(f"/api/agent/conversations/{cid}/resolve", headers=wang).status_code == 200
    audit = client.get(f"/api/agent/audit?conversation_id={cid}", headers=login(client, "zhao")).json()
    assert [a["action"] for a in reversed(audit["items"])] == ["claim", "message", "resolve"]
    assert {a["actor"] for a in audit["items"]} == {"wang"}


def test_agents_cannot_see_audit_or_reassign(client: TestClient) -> None:
    cid = queued_conversation(client)
    wang = login(client, "wang")
    assert client.get("/api/agent/audit", headers=wang).status_code == 403
    assert client.get("/api/agent/conversations?scope=all", headers=wang).status_code == 403
    response = client.post(f"/api/agent/conversations/{cid}/assign", headers=wang, json={"agent": "li"})
    assert response.status_code == 403


def test_supervisor_reassigns_a_held_conversation(client: TestClient) -> None:
    cid = queued_conversation(client)
    wang, li, zhao = login(client, "wang"), login(client, "li"), login(client, "zhao")
    client.post(f"/api/agent/conversations/{cid}/claim", headers=wang)
    everything = client.get("/api/agent/conversations?scope=all", headers=zhao).json()["items"]
    assert [c["assigned_agent"] for c in everything] == ["wang"]
    moved = client.post(f"/api/agent/conversations/{cid}/assign", headers=zhao, json={"agent": "li"})
    assert moved.json()["assigned_agent"] == "li"
    assert (
        client.post(f"/api/agent/conversations/{cid}/messages", headers=wang, json={"text": "x"}).status_code
        == 403
    )
    assert (
        client.post(f"/api/agent/conversations/{cid}/messages", headers=li, json={"text": "我来"}).status_code
        == 201
    )
    agents = {a["username"]: a for a in client.get("/api/agent/agents", headers=zhao).json()["items"]}
    assert agents["li"]["holding"] == [cid]
    assert agents["wang"]["holding"] == []


def test_agent_session_token_opens_the_ticket_api(client: TestClient) -> None:
    response = client.get("/api/tickets", headers=login(client, "wang"))
    assert response.status_code == 200


def test_logout_ends_the_session(client: TestClient) -> None:
    wang = login(client, "wang")
    assert client.post("/api/agent/logout", headers=wang).status_code == 204
    assert client.get("/api/agent/queue", headers=wang).status_code == 401


def test_assist_without_bot_or_index_says_what_is_missing(client: TestClient) -> None:
    cid = queued_conversation(client)
    wang = login(client, "wang")
    client.post(f"/api/agent/conversations/{cid}/claim", headers=wang)
    assist = client.get(f"/api/agent/conversations/{cid}/assist", headers=wang).json()
    assert assist["handoff"]["reason"] == "request_human"
    assert assist["kb_passages"] == []
    assert any("知识库" in n for n in assist["notices"])
    assert any("Rasa" in n for n in assist["notices"])


def test_assist_shows_verified_only_from_the_server_record(client: TestClient) -> None:
    # The bot's verified_phone slot can be forged; the badge an agent trusts comes from the
    # accounts database, which only a right SMS code writes.
    cid = queued_conversation(client)
    wang = login(client, "wang")
    client.post(f"/api/agent/conversations/{cid}/claim", headers=wang)
    before = client.get(f"/api/agent/conversations/{cid}/assist", headers=wang).json()
    assert before["customer"] == {"phone_masked": None, "verified": False}
    now = datetime.now(UTC)
    with session_scope(client.app.state.session_factory) as session:  # type: ignore[attr-defined]
        session.add(
            ConversationVerification(
                conversation_id=cid,
                phone="13800138000",
                verified_at=now,
                expires_at=now + timedelta(minutes=30),
            )
        )
    after = client.get(f"/api/agent/conversations/{cid}/assist", headers=wang).json()
    assert after["customer"] == {"phone_masked": "138****8000", "verified": True}


def test_console_page_is_served_with_strict_content_security_policy(client: TestClient) -> None:
    response = client.get("/console")
    assert response.status_code == 200
    assert "坐席工作台" in response.text
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_console_websocket_rejects_bad_token_and_pushes_queue_events(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/agent?token=nope") as ws:
        ws.receive_json()
    token = login(client, "wang")["Authorization"][7:]
    with client.websocket_connect(f"/ws/agent?token={token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        cid = queued_conversation(client)
        events = [ws.receive_json() for _ in range(2)]  # the queue change, then the queue notice
        assert any(e["type"] == "queue" and e["conversation_id"] == cid for e in events)
