"""The real gateway app serves the ticket API, and a resolved ticket asks for a rating in its chat."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.main import create_app
from gateway.settings import GatewaySettings
from tickets import TicketService
from tickets.settings import get_ticket_settings

TOKEN = "gateway-token-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KEFU_TICKETS_API_TOKEN", TOKEN)
    get_ticket_settings.cache_clear()
    settings = GatewaySettings(
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'kefu.db'}",
        rasa_url="http://127.0.0.1:9",
        action_server_url="http://127.0.0.1:9",
        load_knowledge_base=False,
        rasa_timeout_seconds=2,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client
    get_ticket_settings.cache_clear()


def test_resolved_ticket_asks_for_rating_in_its_conversation(client: TestClient) -> None:
    conversation = client.post("/api/conversations").json()["conversation_id"]
    service: TicketService = client.app.state.ticket_service  # type: ignore[attr-defined]
    ticket = service.open_ticket(
        category="fault", type="宽带断网", phone="13800138000", channel="web",
        conversation_id=conversation, description="宽带断了", details={}, district=None,
    )  # fmt: skip
    r = client.post(f"/api/tickets/{ticket.id}/status", json={"status": "resolved"}, headers=AUTH)
    assert r.status_code == 200
    messages = client.get(f"/api/conversations/{conversation}/messages").json()["messages"]
    prompt = [m for m in messages if ticket.id in m["text"]]
    assert prompt and "打分" in prompt[-1]["text"]
    assert prompt[-1].get("custom", {}).get("csat") == {"ticket_id": ticket.id}


def test_gateway_rejects_ticket_api_without_token(client: TestClient) -> None:
    assert client.get("/api/tickets").status_code == 401
    assert client.get("/api/tickets", headers=AUTH).json()["total"] == 0


def test_rating_form_in_the_chat_closes_the_ticket_once(client: TestClient) -> None:
    conversation = client.post("/api/conversations").json()["conversation_id"]
    other = client.post("/api/conversations").json()["conversation_id"]
    service: TicketService = client.app.state.ticket_service  # type: ignore[attr-defined]
    ticket = service.open_ticket(
        category="fault", type="宽带断网", phone="13800138000", channel="web",
        conversation_id=conversation, description="宽带断了", details={}, district=None,
    )  # fmt: skip
    client.post(f"/api/tickets/{ticket.id}/status", json={"status": "resolved"}, headers=AUTH)
    form = "/rate_ticket" + json.dumps({"ticket_id": ticket.id, "score": 4, "comment": "上门很及时"})

    # Another conversation cannot rate this ticket.
    reply = client.post(f"/api/conversations/{other}/messages", json={"text": form}).json()
    assert "没有找到工单" in reply["messages"][0]["text"]

    reply = client.post(f"/api/conversations/{conversation}/messages", json={"text": form}).json()
    assert "感谢您的评价" in reply["messages"][0]["text"]
    view = service.get(ticket.id)
    assert view.status == "closed"

    again = client.post(f"/api/conversations/{conversation}/messages", json={"text": form}).json()
    assert "已经评价过了" in again["messages"][0]["text"]
    bad = client.post(
        f"/api/conversations/{conversation}/messages", json={"text": '/rate_ticket{"score": "x"}'}
    ).json()
    assert "格式不正确" in bad["messages"][0]["text"]
