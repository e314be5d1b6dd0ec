"""Two gateways behind nginx on one database and one Redis behave as one gateway to every user.

A customer alternating between the gateways sees one ordered transcript; an agent's message on
one gateway reaches the customer's WebSocket on the other; a gateway killed mid-chat costs the
widget a reconnect through the balancer and nothing else; nothing is stored, shown or sent to
Telegram twice.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection

from gateway.conversations import ConversationStore
from kefu.db import make_engine, make_session_factory
from tests.cluster.conftest import GatewayCluster
from tests.cluster.processes import kill, wait_back
from tests.conftest import LiveStack
from tests.integration.channel_fixtures import TELEGRAM_SECRET
from tests.staff_accounts import create_staff

pytestmark = pytest.mark.cluster
AGENT, PASSWORD = "cluster-agent", "cluster-agent-password-1"


def transcript(stack: LiveStack, conversation_id: str) -> list[dict[str, Any]]:
    status, body = stack.request("GET", f"/api/conversations/{conversation_id}/messages")
    assert status == 200, body
    return list(body["messages"])


def socket(stack: LiveStack, conversation_id: str, after: int = 0) -> ClientConnection:
    url = stack.url.replace("http://", "ws://")
    token = stack.tokens[conversation_id]
    return connect(f"{url}/ws/conversations/{conversation_id}?token={token}&after={after}", open_timeout=30)


def read_messages(ws: Connection, until: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Message frames until one whose text contains ``until``."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame.get("type") == "message":
            got.append(frame["message"])
            if until in str(frame["message"].get("text")):
                return got


def test_a_customer_alternating_between_gateways_sees_one_ordered_transcript(
    gateway_cluster: GatewayCluster,
) -> None:
    a, b = gateway_cluster.direct("gateway-a"), gateway_cluster.direct("gateway-b")
    cid = a.new_conversation()
    said = ["你好", "我想查一下话费", "流量套餐有哪些", "谢谢"]
    for i, text in enumerate(said):
        reply = (a, b)[i % 2].say(cid, text)
        assert reply["messages"], reply  # every message answered, whichever gateway took it
    seen = [transcript(g, cid) for g in (a, b, gateway_cluster.stack)]
    assert seen[0] == seen[1] == seen[2]
    messages = seen[0]
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    customer = [i for i, m in enumerate(messages) if m["sender"] == "customer"]
    assert [messages[i]["text"] for i in customer] == said
    # Each message's answer comes before the next message: one conversation, one order.
    assert all(later - earlier > 1 for earlier, later in itertools.pairwise(customer))


def agent_headers(stack: LiveStack, database_url: str) -> dict[str, str]:
    create_staff(database_url, AGENT, PASSWORD)
    response = httpx.post(
        stack.url + "/api/agent/login", json={"username": AGENT, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_an_agents_message_on_one_gateway_reaches_the_customers_socket_on_the_other(
    gateway_cluster: GatewayCluster,
) -> None:
    a, b = gateway_cluster.direct("gateway-a"), gateway_cluster.direct("gateway-b")
    cid = a.new_conversation()
    with socket(a, cid) as ws:
        assert a.say(cid, "转人工")["handled_by"] == "queue"
        headers = agent_headers(b, gateway_cluster.database_url)
        claimed = httpx.post(f"{b.url}/api/agent/conversations/{cid}/claim", headers=headers, timeout=30)
        assert claimed.status_code == 200, claimed.text
        words = "您好，我是人工客服，请问有什么可以帮您？"
        posted = httpx.post(
            f"{b.url}/api/agent/conversations/{cid}/messages",
            headers=headers,
            json={"text": words},
            timeout=30,
        )
        assert posted.status_code in (200, 201), posted.text
        live = read_messages(ws, until=words)
    assert [m["seq"] for m in live] == list(range(1, len(live) + 1))  # in order, none twice, none missing
    assert [m["text"] for m in live] == [m["text"] for m in transcript(b, cid)]
    assert live[-1]["sender"] == "agent"


def test_killing_the_gateway_under_a_widget_loses_nothing(gateway_cluster: GatewayCluster) -> None:
    stack = gateway_cluster.stack  # everything through the balancer, like the widget
    cid = stack.new_conversation()
    received: list[dict[str, Any]] = []
    ws = socket(stack, cid)
    stack.say(cid, "你好")
    received += read_messages(ws, until="")  # at least the customer's own message
    dropped = False
    for name in ("gateway-a", "gateway-b"):  # the socket is on one of them: kill that one
        before = kill(stack, name)
        try:
            while True:  # the rest of what was sent before the kill, then the close
                frame = json.loads(ws.recv(timeout=5))
                if frame.get("type") == "message":
                    received.append(frame["message"])
        except ConnectionClosed:
            dropped = True
        except TimeoutError:
            pass  # not this gateway's socket
        # The customer goes on talking while the gateway is down: the balancer uses the other one.
        reply = stack.say(cid, f"{name}停了以后我还在说话")
        assert reply["messages"], reply
        wait_back(stack, name, before)
        if dropped:
            break
    assert dropped, "the widget's socket was on neither gateway"
    last = max(m["seq"] for m in received)
    with socket(stack, cid, after=last) as again:  # the widget reconnects where it left off
        stack.say(cid, "重新连上了")
        received += read_messages(again, until="重新连上了")
        received += _until_quiet(again)
    seqs = [m["seq"] for m in received]
    assert seqs == list(range(1, len(seqs) + 1))  # nothing lost, nothing twice
    assert [m["text"] for m in received] == [m["text"] for m in transcript(stack, cid)]


def _until_quiet(ws: Connection, quiet: float = 3.0) -> list[dict[str, Any]]:
    """The bot's answer to the last message (it follows the echo of the customer's words)."""
    got: list[dict[str, Any]] = []
    try:
        while True:
            frame = json.loads(ws.recv(timeout=quiet))
            if frame.get("type") == "message":
                got.append(frame["message"])
    except TimeoutError:
        return got


def test_telegram_deliveries_from_two_gateways_are_sent_once_each_in_order(
    gateway_cluster: GatewayCluster,
) -> None:
    a, b = gateway_cluster.direct("gateway-a"), gateway_cluster.direct("gateway-b")
    chat = 424242
    for i, text in enumerate(["你好", "我想查一下话费", "谢谢"]):  # webhooks land on both gateways
        update = {
            "update_id": 7000 + i,
            "message": {
                "message_id": 8000 + i,
                "from": {"id": chat, "is_bot": False, "first_name": "小明"},
                "chat": {"id": chat, "type": "private"},
                "date": 1764355200,
                "text": text,
            },
        }
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        response = httpx.post(
            (a, b)[i % 2].url + "/webhooks/telegram", json=update, headers=headers, timeout=60
        )
        assert response.status_code == 200, response.text
    store = ConversationStore(make_session_factory(make_engine(gateway_cluster.database_url)))
    outgoing = _answered(store, str(chat), customer_messages=3)
    gateway_cluster.telegram.wait_for_text("/sendMessage", outgoing[-1].text.splitlines()[0], timeout=60)
    time.sleep(5)  # a delivery sweep (every 2 s here) must not send anything again
    sent = [c for c in gateway_cluster.telegram.paths("/sendMessage") if str(c.body["chat_id"]) == str(chat)]
    assert len(sent) == len(outgoing)
    for message, call in zip(outgoing, sent, strict=True):
        assert message.text.splitlines()[0] in call.body["text"]


def _answered(
    store: ConversationStore, chat: str, customer_messages: int, timeout: float = 120.0
) -> list[Any]:
    """The stored replies of the chat once all its customer messages are answered."""
    deadline = time.monotonic() + timeout
    while True:
        conversation = store.find_by_channel_user("telegram", chat)
        if conversation is not None:
            messages = store.messages_after(conversation.id)
            asked = [m for m in messages if m.sender == "customer"]
            if len(asked) == customer_messages and messages[-1].sender != "customer":
                time.sleep(2)  # the last answer may have more than one message
                return [m for m in store.messages_after(conversation.id) if m.sender != "customer"]
        assert time.monotonic() < deadline, "the chat's messages were not all answered"
        time.sleep(0.5)
