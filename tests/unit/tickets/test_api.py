"""The agents' ticket API over a real database, as an agent's client sees it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.api.routes.tickets import router
from gateway.errors import install_error_handlers
from tests.unit.tickets.helpers import report_fault
from tickets import TicketService

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(service: TicketService) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    app.state.ticket_service = service
    app.state.api_token = TOKEN
    with TestClient(app) as test_client:
        yield test_client


def test_get_ticket_returns_fields_history_and_masked_customer(
    client: TestClient, service: TicketService
) -> None:
    ticket = report_fault(service)
    body = client.get(f"/api/tickets/{ticket.id}", headers=AUTH).json()
    for key in ("id", "category", "type", "severity", "status", "department", "due_at", "customer_masked"):
        assert key in body
    assert body["customer_masked"] == "138****8000" and "13800138000" not in str(body)
    assert body["history"][0]["kind"] == "created"


def test_ticket_api_without_token_is_rejected(client: TestClient, service: TicketService) -> None:
    ticket = report_fault(service)
    assert client.get(f"/api/tickets/{ticket.id}").status_code == 401
    assert client.get("/api/tickets", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_list_filters_and_pages(client: TestClient, service: TicketService) -> None:
    report_fault(service, "13800000001")
    report_fault(service, "13800000002", district="朝阳区")
    report_fault(service, "13800000003", fault="手机无信号", district="朝阳区")
    body = client.get("/api/tickets", params={"district": "朝阳区", "limit": 1}, headers=AUTH).json()
    assert body["total"] == 2 and len(body["items"]) == 1
    page2 = client.get(
        "/api/tickets", params={"district": "朝阳区", "limit": 1, "offset": 1}, headers=AUTH
    ).json()
    assert page2["items"][0]["id"] != body["items"][0]["id"]
    assert (
        client.get("/api/tickets", params={"category": "fault", "status": "new"}, headers=AUTH).json()[
            "total"
        ]
        == 3
    )
    assert client.get("/api/tickets", params={"overdue": "true"}, headers=AUTH).json()["total"] == 0
    assert client.get("/api/tickets", params={"severity": "V"}, headers=AUTH).status_code == 422


def test_status_assignee_severity_and_comment_changes_are_audited(
    client: TestClient, service: TicketService
) -> None:
    tid = report_fault(service).id
    assert (
        client.post(f"/api/tickets/{tid}/assignee", json={"assignee": "li.na"}, headers=AUTH).status_code
        == 200
    )
    r = client.post(
        f"/api/tickets/{tid}/status", json={"status": "in_progress", "note": "已联系"}, headers=AUTH
    )
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    assert (
        client.post(f"/api/tickets/{tid}/severity", json={"severity": "II"}, headers=AUTH).json()["severity"]
        == "II"
    )
    r = client.post(f"/api/tickets/{tid}/comments", json={"text": "明早上门"}, headers=AUTH)
    assert r.status_code == 201
    kinds = [e["kind"] for e in client.get(f"/api/tickets/{tid}", headers=AUTH).json()["history"]]
    assert kinds == ["created", "assignee", "status", "status", "severity", "comment"]
    assert all(e["actor"] == "api" for e in r.json()["history"][1:])


def test_invalid_transition_is_409_with_clear_message(client: TestClient, service: TicketService) -> None:
    tid = report_fault(service).id
    r = client.post(f"/api/tickets/{tid}/status", json={"status": "closed"}, headers=AUTH)
    assert r.status_code == 409
    assert "不能变更为" in r.json()["error"]["message"] and r.json()["error"]["code"] == "invalid_transition"


def test_unknown_ticket_is_404(client: TestClient) -> None:
    assert client.get("/api/tickets/TK20200101-0001", headers=AUTH).status_code == 404


def test_incident_resolution_via_api_resolves_linked_tickets(
    client: TestClient, service: TicketService
) -> None:
    for n in range(3):
        report_fault(service, f"1380000000{n}")
    incidents = client.get("/api/tickets/incidents", headers=AUTH).json()
    assert len(incidents) == 1
    r = client.post(
        f"/api/tickets/incidents/{incidents[0]['id']}/resolve", json={"note": "已修复"}, headers=AUTH
    )
    assert r.status_code == 200 and {t["status"] for t in r.json()} == {"resolved"}


def test_contact_endpoint_returns_full_phone_for_staff(client: TestClient, service: TicketService) -> None:
    tid = report_fault(service).id
    assert client.get(f"/api/tickets/{tid}/contact", headers=AUTH).json() == {"phone": "13800138000"}


def test_openapi_documents_ticket_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert (
        "/api/tickets/{ticket_id}/status" in paths
        and "409" in paths["/api/tickets/{ticket_id}/status"]["post"]["responses"]
    )
