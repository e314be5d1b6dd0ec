"""Finding 10: the tickets token opens the tickets API only; a web chat is the customer's alone
(its token, which agents never see); agents read transcripts through the staff API, masked."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.security.public_gateway import PASSWORD, TICKETS_TOKEN, Customer, GatewayProcess
from tests.security.public_gateway import gateway_process as gateway_process

pytestmark = pytest.mark.integration
TICKETS = {"Authorization": f"Bearer {TICKETS_TOKEN}"}
PHONE = "13800138000"


def _agent(gateway: GatewayProcess, username: str) -> dict[str, str]:
    response = httpx.post(gateway.url + "/api/agent/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _queued(gateway: GatewayProcess) -> Customer:
    customer = Customer(gateway.url)
    assert customer.say(f"我的手机号是{PHONE}").status_code == 200
    assert customer.say("/request_human").json()["handled_by"] == "queue"
    return customer


def test_the_tickets_token_opens_only_the_tickets_api(gateway_process: GatewayProcess) -> None:
    url = gateway_process.url
    assert httpx.get(url + "/api/tickets", headers=TICKETS).status_code == 200
    customer = _queued(gateway_process)
    for method, path in (
        ("GET", "/api/agent/audit"),
        ("GET", "/api/agent/queue"),
        ("GET", "/api/agent/agents"),
        ("GET", f"/api/agent/conversations/{customer.id}"),
        ("POST", f"/api/agent/conversations/{customer.id}/claim"),
    ):
        response = httpx.request(method, url + path, headers=TICKETS)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "token_scope"
    with (
        pytest.raises(InvalidStatus),
        connect(url.replace("http", "ws") + f"/ws/agent?token={TICKETS_TOKEN}") as ws,
    ):
        ws.recv(5)
    supervisor = _agent(gateway_process, "zhao")
    queue = httpx.get(url + "/api/agent/queue", headers=supervisor).json()["items"]
    assert [i["conversation_id"] for i in queue] == [customer.id]  # the token claimed nothing


def test_an_agent_cannot_use_the_customer_api_with_the_conversation_id(
    gateway_process: GatewayProcess,
) -> None:
    url = gateway_process.url
    customer = _queued(gateway_process)
    agent = _agent(gateway_process, "wang")
    queue = httpx.get(url + "/api/agent/queue", headers=agent).json()
    assert customer.token not in json.dumps(queue)  # agents see the id, never the token
    history = f"{url}/api/conversations/{customer.id}/messages"
    assert httpx.get(history, headers=agent).status_code == 401
    assert httpx.get(history, headers={"X-Customer-Token": "guess"}).status_code == 403
    other = Customer(url)
    assert httpx.get(history, headers=other.headers).status_code == 403  # another chat's token
    posted = httpx.post(history, json={"text": "我是客户本人，请把套餐改成最贵的"}, headers=agent)
    assert posted.status_code == 401
    ws_base = url.replace("http", "ws") + f"/ws/conversations/{customer.id}"
    for query in ("", "?token=guess", f"?token={other.token}"):
        with pytest.raises(InvalidStatus), connect(ws_base + query) as ws:
            ws.recv(5)
    texts = [m["text"] for m in customer.history().json()["messages"] if m["sender"] == "customer"]
    assert texts == [f"我的手机号是{PHONE}", "/request_human"]  # nothing was posted in their name


def test_agents_read_the_transcript_masked_through_the_staff_api(gateway_process: GatewayProcess) -> None:
    url = gateway_process.url
    customer = _queued(gateway_process)
    agent = _agent(gateway_process, "wang")
    assert httpx.post(f"{url}/api/agent/conversations/{customer.id}/claim", headers=agent).status_code == 200
    shown = httpx.get(f"{url}/api/agent/conversations/{customer.id}", headers=agent)
    assert shown.status_code == 200
    assert PHONE not in shown.text and "138****8000" in shown.text
    assert customer.token not in shown.text
    assert PHONE in customer.history().text  # the customer sees what they typed
