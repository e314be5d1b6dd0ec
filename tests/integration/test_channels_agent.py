"""An agent takes over a Telegram and a WeChat conversation through the agent API: the agent's replies
reach the same chat through the platform's API, and the bot stays silent until the agent hands back."""

from __future__ import annotations

import httpx
import pytest

from gateway.agents.auth import AgentDirectory
from tests.integration import test_channels_telegram as telegram
from tests.integration import test_channels_wechat as wechat
from tests.integration.channel_fixtures import ChannelStack
from tests.integration.channel_fixtures import channel_stack as channel_stack

pytestmark = pytest.mark.integration
PASSWORD = "agent-password-1"


def agent_headers(stack: ChannelStack) -> dict[str, str]:
    directory: AgentDirectory = stack.app.state.agent_directory
    directory.create("xiaowang", PASSWORD, role="agent")
    response = httpx.post(
        stack.url + "/api/agent/login", json={"username": "xiaowang", "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def claim(stack: ChannelStack, headers: dict[str, str], conversation_id: str) -> None:
    response = httpx.post(
        f"{stack.url}/api/agent/conversations/{conversation_id}/claim", headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text


def say(stack: ChannelStack, headers: dict[str, str], conversation_id: str, text: str) -> None:
    response = httpx.post(
        f"{stack.url}/api/agent/conversations/{conversation_id}/messages",
        headers=headers,
        json={"text": text},
        timeout=30,
    )
    assert response.status_code in (200, 201), response.text


def test_telegram_customer_talks_to_an_agent_then_the_bot_again(channel_stack: ChannelStack) -> None:
    headers = agent_headers(channel_stack)
    assert telegram.post(channel_stack, telegram.text_update(50, "转人工")).status_code == 200
    channel_stack.platform.wait_for("/sendMessage", 2)  # the bot's words + the queue notice
    conv = channel_stack.app.state.store.find_by_channel_user("telegram", str(telegram.CHAT_ID))
    assert conv is not None and conv.state == "queue"

    claim(channel_stack, headers, conv.id)
    say(channel_stack, headers, conv.id, "您好，我是人工客服小王，请问有什么可以帮您？")
    agent_text = "您好，我是人工客服小王，请问有什么可以帮您？"
    sent = channel_stack.platform.wait_for_text("/sendMessage", agent_text)
    agent_message = [c.body for c in sent if c.body["text"] == agent_text]
    assert len(agent_message) == 1 and str(agent_message[0]["chat_id"]) == str(telegram.CHAT_ID)

    # While the agent holds the chat the bot is not asked, and nothing is sent for the customer's words.
    rasa_calls = len(channel_stack.rasa.calls)
    assert telegram.post(channel_stack, telegram.text_update(51, "我家宽带断了")).status_code == 200
    # (A channel chat has no customer token: its history is read from the store, as agents' APIs do.)
    store = channel_stack.app.state.store
    assert store.get(conv.id).state == "agent"
    history = store.messages_after(conv.id, 0)
    assert any(m.sender == "customer" and m.text == "我家宽带断了" for m in history)
    assert len(channel_stack.rasa.calls) == rasa_calls

    response = httpx.post(
        f"{channel_stack.url}/api/agent/conversations/{conv.id}/release", headers=headers, json={}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert telegram.post(channel_stack, telegram.text_update(52, "查一下流量")).status_code == 200
    assert len(channel_stack.rasa.calls) > rasa_calls  # the bot answers again


def test_wechat_agent_reply_goes_through_the_customer_service_api(channel_stack: ChannelStack) -> None:
    headers = agent_headers(channel_stack)
    assert wechat.post(channel_stack, wechat.text_xml("转人工", "7001")).status_code == 200
    conv = channel_stack.app.state.store.find_by_channel_user("wechat", wechat.OPENID)
    assert conv is not None and conv.state == "queue"

    claim(channel_stack, headers, conv.id)
    say(channel_stack, headers, conv.id, "您好，我是人工客服小王。")
    sent = channel_stack.platform.wait_for_text("/message/custom/send", "您好，我是人工客服小王。")
    bodies = [c.body for c in sent if c.body["text"]["content"] == "您好，我是人工客服小王。"]
    assert len(bodies) == 1 and bodies[0]["touser"] == wechat.OPENID and bodies[0]["msgtype"] == "text"
