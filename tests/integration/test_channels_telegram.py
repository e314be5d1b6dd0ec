"""Telegram webhook and Bot API sending, against a loopback stand-in of the Bot API."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from gateway.conversations import OutgoingMessage
from tests.integration.channel_fixtures import TELEGRAM_SECRET, TELEGRAM_TOKEN, ChannelStack
from tests.integration.channel_fixtures import channel_stack as channel_stack

pytestmark = pytest.mark.integration
CHAT_ID = 987654321


def text_update(update_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id + 1000,
            "from": {"id": CHAT_ID, "is_bot": False, "first_name": "小明", "language_code": "zh-hans"},
            "chat": {"id": CHAT_ID, "first_name": "小明", "type": "private"},
            "date": 1764355200,
            "text": text,
        },
    }


def post(stack: ChannelStack, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> httpx.Response:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    return httpx.post(stack.url + "/webhooks/telegram", json=update, headers=headers, timeout=30)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", TELEGRAM_SECRET + "x"])
def test_webhook_rejects_missing_or_wrong_secret(channel_stack: ChannelStack, secret: str | None) -> None:
    response = post(channel_stack, text_update(1, "你好"), secret=secret)
    assert response.status_code == 401
    assert channel_stack.rasa.calls == []
    assert channel_stack.app.state.store.find_by_channel_user("telegram", str(CHAT_ID)) is None


def test_text_message_is_answered_with_inline_keyboard_and_citation(channel_stack: ChannelStack) -> None:
    assert post(channel_stack, text_update(10, "办新号要带什么")).status_code == 200
    sent = channel_stack.platform.wait_for("/sendMessage", 1)[0]
    assert sent.path == f"/bot{TELEGRAM_TOKEN}/sendMessage"
    assert sent.body["chat_id"] == str(CHAT_ID)
    assert "您说的是：办新号要带什么" in sent.body["text"]
    assert "依据：《服务指南》3.2 业务受理常见问题处理流程" in sent.body["text"]
    keyboard = sent.body["reply_markup"]["inline_keyboard"]
    assert keyboard == [[{"text": "转人工客服", "callback_data": "/request_human"}]]


def test_redelivered_update_is_answered_once(channel_stack: ChannelStack) -> None:
    assert post(channel_stack, text_update(20, "查话费")).status_code == 200
    assert post(channel_stack, text_update(20, "查话费")).status_code == 200
    channel_stack.platform.wait_for("/sendMessage", 1)
    assert post(channel_stack, text_update(21, "谢谢")).status_code == 200
    sent = channel_stack.platform.wait_for("/sendMessage", 2)
    assert [c.body["text"].splitlines()[0] for c in sent] == ["您说的是：查话费", "您说的是：谢谢"]
    assert len(channel_stack.rasa.calls) == 2


def test_pressed_button_is_routed_and_acknowledged(channel_stack: ChannelStack) -> None:
    update = {
        "update_id": 30,
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": {"id": CHAT_ID, "is_bot": False, "first_name": "小明"},
            "message": {"message_id": 77, "chat": {"id": CHAT_ID, "type": "private"}, "date": 1764355200},
            "chat_instance": "-1234",
            "data": "/request_human",
        },
    }
    assert post(channel_stack, update).status_code == 200
    ack = channel_stack.platform.wait_for("/answerCallbackQuery", 1)[0]
    assert ack.body == {"callback_query_id": "4382bfdwdsb323b2d9"}
    assert channel_stack.rasa.calls[0].body["message"] == "/request_human"
    channel_stack.platform.wait_for("/sendMessage", 1)


def test_agent_reply_reaches_the_chat_after_bot_api_failures(
    channel_stack: ChannelStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert post(channel_stack, text_update(40, "转人工")).status_code == 200
    channel_stack.platform.wait_for("/sendMessage", 2)  # bot text + queue notice
    conv = channel_stack.app.state.store.find_by_channel_user("telegram", str(CHAT_ID))
    assert conv is not None and conv.state == "queue"
    channel_stack.platform.fail_next = 2
    router = channel_stack.app.state.router
    channel_stack.run(
        router.store_message(conv.id, OutgoingMessage(sender="agent", text="您好，我是客服小王。"))
    )
    sent = channel_stack.platform.wait_for("/sendMessage", 3)
    assert [c.body["text"] for c in sent].count("您好，我是客服小王。") == 1
    assert TELEGRAM_TOKEN not in caplog.text
