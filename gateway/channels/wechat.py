"""WeChat Official Account: signatures, XML messages, passive replies, customer-service API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

import httpx

from gateway.channels.settings import WechatSettings
from gateway.channels.telegram import ChannelSendError, quiet_url_logging

log = logging.getLogger(__name__)
MAX_XML_BYTES = 64 * 1024


def signature(token: str, timestamp: str, nonce: str) -> str:
    """sha1 of the lexicographically sorted token, timestamp and nonce (WeChat's scheme)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def signature_ok(settings: WechatSettings, sig: str | None, timestamp: str | None, nonce: str | None) -> bool:
    token = settings.token.get_secret_value()
    if not token or not sig or timestamp is None or nonce is None:
        return False
    # Bytes: compare_digest refuses non-ASCII str, and the query string is the caller's choice.
    return hmac.compare_digest(signature(token, timestamp, nonce).encode(), sig.lower().encode())


@dataclass(frozen=True)
class IncomingWechat:
    to_user: str  # the Official Account
    from_user: str  # the customer's openid
    msg_type: str
    content: str
    msg_id: str


class BadXml(ValueError):
    """The body is not a WeChat message."""


def _root(body: bytes) -> ET.Element:
    if len(body) > MAX_XML_BYTES or b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise BadXml("unsupported XML")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise BadXml(str(exc)) from None


def encrypted_field(body: bytes) -> str:
    """The ``<Encrypt>`` ciphertext of a safe-mode message."""
    node = _root(body).find("Encrypt")
    text = (node.text or "").strip() if node is not None else ""
    if not text:
        raise BadXml("missing Encrypt")
    return text


def parse_message(body: bytes) -> IncomingWechat:
    root = _root(body)

    def field(name: str) -> str:
        node = root.find(name)
        return (node.text or "").strip() if node is not None else ""

    if not field("FromUserName") or not field("ToUserName"):
        raise BadXml("missing FromUserName/ToUserName")
    msg_id = field("MsgId") or f"{field('FromUserName')}:{field('CreateTime')}"
    return IncomingWechat(
        field("ToUserName"), field("FromUserName"), field("MsgType"), field("Content"), msg_id
    )


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(incoming: IncomingWechat, text: str, now: int | None = None) -> str:
    """Passive reply XML: swap the sender and receiver of the incoming message."""
    return (
        "<xml>"
        f"<ToUserName>{_cdata(incoming.from_user)}</ToUserName>"
        f"<FromUserName>{_cdata(incoming.to_user)}</FromUserName>"
        f"<CreateTime>{now if now is not None else int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(text)}</Content>"
        "</xml>"
    )


class WechatClient:
    """Customer-service messages; the access token is fetched once and reused until it expires."""

    def __init__(self, settings: WechatSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        quiet_url_logging()

    def _url(self, path: str) -> str:
        return self.settings.api_base.rstrip("/") + path

    async def access_token(self) -> str:
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at:
                return self._token
            params = {
                "grant_type": "client_credential",
                "appid": self.settings.app_id,
                "secret": self.settings.app_secret.get_secret_value(),
            }
            try:
                resp = await self._client.get(self._url("/cgi-bin/token"), params=params)
                body = resp.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise ChannelSendError(f"wechat token: {type(exc).__name__}") from None
            if not isinstance(body, dict) or "access_token" not in body:
                raise ChannelSendError(
                    f"wechat token: errcode {body.get('errcode') if isinstance(body, dict) else '?'}"
                )
            self._token = str(body["access_token"])
            # Refresh a minute early so a token never expires mid-call.
            self._expires_at = time.monotonic() + max(0, int(body.get("expires_in", 7200)) - 60)
            return self._token

    def invalidate_token(self) -> None:
        self._token = None

    async def send_text(self, openid: str, text: str) -> None:
        token = await self.access_token()
        payload: dict[str, Any] = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        try:
            resp = await self._client.post(
                self._url("/cgi-bin/message/custom/send"), params={"access_token": token}, json=payload
            )
            body = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChannelSendError(f"wechat send: {type(exc).__name__}") from None
        errcode = body.get("errcode", 0) if isinstance(body, dict) else -1
        if errcode in (40001, 40014, 42001):  # token invalid or expired: fetch a new one next try
            self.invalidate_token()
        if resp.status_code != 200 or errcode != 0:
            raise ChannelSendError(f"wechat send: HTTP {resp.status_code} errcode {errcode}")

    async def aclose(self) -> None:
        await self._client.aclose()
