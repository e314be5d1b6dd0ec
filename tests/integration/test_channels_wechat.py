"""WeChat Official Account server URL and customer-service API, against a loopback stand-in."""

from __future__ import annotations

import re
import secrets
import time

import httpx
import pytest

from gateway.channels.wechat import signature
from gateway.conversations import OutgoingMessage
from tests.integration.channel_fixtures import WECHAT_TOKEN, ChannelStack
from tests.integration.channel_fixtures import channel_stack as channel_stack

pytestmark = pytest.mark.integration
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
ACCOUNT = "gh_8f1c2d3e4a5b"


def signed(
    timestamp: str | None = None, nonce: str | None = None, token: str = WECHAT_TOKEN
) -> dict[str, str]:
    """Query of a fresh signed call: now, and a nonce never used (the gateway refuses replays)."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or str(secrets.randbelow(10**9))
    return {"signature": signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def text_xml(content: str, msg_id: str) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        "<CreateTime>1764355200</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def post(stack: ChannelStack, body: bytes, params: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        stack.url + "/webhooks/wechat",
        params=signed() if params is None else params,
        content=body,
        headers={"Content-Type": "text/xml"},
        timeout=30,
    )


def content_of(xml: str) -> str:
    match = re.search(r"<Content><!\[CDATA\[(.*?)\]\]></Content>", xml, re.S)
    assert match, xml
    return match.group(1)


def test_server_url_verification_echoes_echostr(channel_stack: ChannelStack) -> None:
    response = httpx.get(channel_stack.url + "/webhooks/wechat", params={**signed(), "echostr": "5837397520"})
    assert response.status_code == 200
    assert response.text == "5837397520"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"timestamp": "1764355200", "nonce": "482913", "echostr": "1"},
        {**signed(token="another-token"), "echostr": "1"},
        {**signed(), "nonce": "999999", "echostr": "1"},
    ],
)
def test_server_url_verification_rejects_bad_signature(
    channel_stack: ChannelStack, params: dict[str, str]
) -> None:
    response = httpx.get(channel_stack.url + "/webhooks/wechat", params=params)
    assert response.status_code == 401
    assert response.text != "1"


def test_message_with_bad_signature_is_rejected_and_not_processed(channel_stack: ChannelStack) -> None:
    response = post(channel_stack, text_xml("你好", "1001"), params=signed(token="forged"))
    assert response.status_code == 401
    assert channel_stack.rasa.calls == []
    assert channel_stack.app.state.store.find_by_channel_user("wechat", OPENID) is None


def test_fast_answer_is_a_passive_xml_reply(channel_stack: ChannelStack) -> None:
    response = post(channel_stack, text_xml("宽带坏了", "2001"))
    assert response.status_code == 200
    assert f"<ToUserName><![CDATA[{OPENID}]]></ToUserName>" in response.text
    assert f"<FromUserName><![CDATA[{ACCOUNT}]]></FromUserName>" in response.text
    reply = content_of(response.text)
    assert "您说的是：宽带坏了" in reply
    assert "依据：《服务指南》3.2" in reply
    assert "转人工客服" in reply
    # A later agent message goes out through the API, and the passive answer is not sent again.
    conv = channel_stack.app.state.store.find_by_channel_user("wechat", OPENID)
    router = channel_stack.app.state.router
    channel_stack.run(
        router.store_message(conv.id, OutgoingMessage(sender="agent", text="您好，客服小李为您服务。"))
    )
    sent = channel_stack.platform.wait_for("/message/custom/send", 1)
    channel_stack.run(channel_stack.app.state.channels.dispatcher.drain())
    sent = channel_stack.platform.paths("/message/custom/send")
    assert [c.body for c in sent] == [
        {"touser": OPENID, "msgtype": "text", "text": {"content": "您好，客服小李为您服务。"}}
    ]
    assert sent[0].query["access_token"] == ["AT1"]


def test_duplicate_msgid_is_answered_once(channel_stack: ChannelStack) -> None:
    first = post(channel_stack, text_xml("查话费", "3001"))
    second = post(channel_stack, text_xml("查话费", "3001"))
    assert "您说的是：查话费" in content_of(first.text)
    assert second.text == "success"
    assert len(channel_stack.rasa.calls) == 1
    conv = channel_stack.app.state.store.find_by_channel_user("wechat", OPENID)
    customer = [m for m in channel_stack.app.state.store.messages_after(conv.id) if m.sender == "customer"]
    assert [m.client_msg_id for m in customer] == ["wx:3001"]


def test_slow_answer_says_success_then_arrives_via_customer_service_api(channel_stack: ChannelStack) -> None:
    response = post(channel_stack, text_xml("慢慢说，套餐怎么改", "4001"))
    assert response.status_code == 200
    assert response.text == "success"
    sent = channel_stack.platform.wait_for("/message/custom/send", 1)
    assert "您说的是：慢慢说，套餐怎么改" in sent[0].body["text"]["content"]
    assert sent[0].body["touser"] == OPENID
    response = post(channel_stack, text_xml("慢一点也行", "4002"))
    assert response.text == "success"
    channel_stack.platform.wait_for("/message/custom/send", 2)
    channel_stack.run(channel_stack.app.state.channels.dispatcher.drain())
    assert len(channel_stack.platform.paths("/message/custom/send")) == 2
    assert len(channel_stack.platform.paths("/cgi-bin/token")) == 1  # cached until expiry


def test_malformed_xml_is_rejected(channel_stack: ChannelStack) -> None:
    response = post(channel_stack, b"<xml><ToUserName>")
    assert response.status_code == 400
    assert channel_stack.rasa.calls == []
