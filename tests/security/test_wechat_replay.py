"""Finding 5: a signed WeChat call is good once and only near its timestamp; the AES safe mode
(encrypt_type=aes, msg_signature) is understood and the passive reply is encrypted.

The safe-mode envelope is built here from the platform's documented layout (random16 + length +
message + AppID, PKCS#7 to 32, AES-256-CBC with IV = key[:16]), independently of the gateway's code.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gateway.channels.wechat import signature
from tests.integration.channel_fixtures import WECHAT_TOKEN, ChannelStack
from tests.security.public_gateway import start_public_stack

pytestmark = pytest.mark.integration
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
ACCOUNT = "gh_8f1c2d3e4a5b"
APP_ID = "wx-app"  # what channel_fixtures configures
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChannelStack]:
    yield from start_public_stack(tmp_path, monkeypatch, WECHAT_ENCODING_AES_KEY=AES_KEY)


def signed(timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(6)
    return {"signature": signature(WECHAT_TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}


def text_xml(content: str, msg_id: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def _cipher() -> Cipher[modes.CBC]:
    key = base64.b64decode(AES_KEY + "=")
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(xml: str, app_id: str = APP_ID) -> str:
    body = xml.encode()
    plain = os.urandom(16) + struct.pack(">I", len(body)) + body + app_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    enc = _cipher().encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def decrypt(encrypted: str) -> tuple[str, str]:
    dec = _cipher().decryptor()
    plain = dec.update(base64.b64decode(encrypted)) + dec.finalize()
    plain = plain[: -plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    return plain[20 : 20 + length].decode(), plain[20 + length :].decode()


def msg_signature(stamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([WECHAT_TOKEN, stamp, nonce, encrypted])).encode()).hexdigest()


def post(stack: ChannelStack, body: str, params: dict[str, str]) -> httpx.Response:
    return httpx.post(
        stack.url + "/webhooks/wechat",
        params=params,
        content=body.encode(),
        headers={"Content-Type": "text/xml"},
    )


def test_a_signed_call_from_2001_is_refused(stack: ChannelStack) -> None:
    old = signed(timestamp=978307200)  # 2001-01-01, correctly signed
    assert httpx.get(stack.url + "/webhooks/wechat", params={**old, "echostr": "1"}).status_code == 401
    response = post(stack, text_xml("我是别人", "5001"), old)
    assert response.status_code == 401
    assert stack.app.state.store.find_by_channel_user("wechat", OPENID) is None
    future = signed(timestamp=int(time.time()) + 3600)
    assert post(stack, text_xml("来自未来", "5002"), future).status_code == 401


def test_a_replayed_signed_url_is_refused(stack: ChannelStack) -> None:
    params = signed()
    first = post(stack, text_xml("第一次", "6001"), params)
    assert first.status_code == 200
    again = post(stack, text_xml("冒充的第二条", "6002"), params)  # same signature, timestamp, nonce
    assert again.status_code == 401
    conv = stack.app.state.store.find_by_channel_user("wechat", OPENID)
    texts = [m.text for m in stack.app.state.store.messages_after(conv.id) if m.sender == "customer"]
    assert texts == ["第一次"]
    echo = signed()
    assert httpx.get(stack.url + "/webhooks/wechat", params={**echo, "echostr": "42"}).text == "42"
    assert httpx.get(stack.url + "/webhooks/wechat", params={**echo, "echostr": "42"}).status_code == 401


def test_safe_mode_message_is_decrypted_and_the_reply_encrypted(stack: ChannelStack) -> None:
    params = signed()
    encrypted = encrypt(text_xml("宽带坏了", "7001"))
    query = {
        **params,
        "encrypt_type": "aes",
        "msg_signature": msg_signature(params["timestamp"], params["nonce"], encrypted),
        "openid": OPENID,
    }
    envelope = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    response = post(stack, envelope, query)
    assert response.status_code == 200, response.text
    inner = response.text.removeprefix("<xml>").removesuffix("</xml>")
    fields = dict(re.findall(r"<(\w+)>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</\1>", inner))
    assert "Content" not in fields  # nothing in the clear
    assert fields["MsgSignature"] == msg_signature(fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
    reply, app_id = decrypt(fields["Encrypt"])
    assert app_id == APP_ID
    assert "您说的是：宽带坏了" in reply and f"<ToUserName><![CDATA[{OPENID}]]>" in reply


def test_safe_mode_refuses_a_bad_msg_signature_or_another_appid(stack: ChannelStack) -> None:
    for encrypted, forge in (
        (encrypt(text_xml("伪造签名", "8001")), True),
        (encrypt(text_xml("别的公众号", "8002"), "wx-other"), False),
    ):
        params = signed()
        sig = "0" * 40 if forge else msg_signature(params["timestamp"], params["nonce"], encrypted)
        query = {**params, "encrypt_type": "aes", "msg_signature": sig}
        response = post(stack, f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>", query)
        assert response.status_code in (400, 401)
    assert stack.app.state.store.find_by_channel_user("wechat", OPENID) is None
