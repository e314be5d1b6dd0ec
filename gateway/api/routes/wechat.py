"""WeChat Official Account server URL: ``GET/POST /webhooks/wechat``.

GET is the verification handshake; POST carries signed XML messages. Every signed call must be
fresh (timestamp within ``KEFU_WECHAT_TIMESTAMP_WINDOW_SECONDS``, nonce never seen): a leaked
signed URL cannot be replayed. With an EncodingAESKey the safe mode (``encrypt_type=aes``) is
understood and the passive reply is encrypted the same way.

The bot's answer goes back as a passive reply when it comes within ``passive_reply_seconds``;
otherwise we answer "success" and the dispatcher sends it through the customer-service API.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from gateway.channels.mapping import conversation_for
from gateway.channels.render import message_text
from gateway.channels.settings import WechatSettings
from gateway.channels.wechat import BadXml, encrypted_field, parse_message, signature_ok, text_reply
from gateway.channels.wechat_crypto import CryptoError, ReplayGuard, WechatCrypto, msg_signature
from gateway.inbound import clean_channel_text
from gateway.routing import RouteResult

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])
UNSUPPORTED_TEXT = "目前仅支持文字消息，请用文字描述您的问题。"
XML = "application/xml; charset=utf-8"
_background: set[asyncio.Task[RouteResult]] = set()


def _refused(reason: str) -> Response:
    return PlainTextResponse(reason, status_code=401)


def _check(request: Request) -> Response | None:
    """None if the call is signed and fresh, else the refusal."""
    q = request.query_params
    channels = request.app.state.channels
    settings: WechatSettings = channels.wechat_settings
    timestamp, nonce = q.get("timestamp"), q.get("nonce")
    if not settings.enabled or not signature_ok(settings, q.get("signature"), timestamp, nonce):
        return _refused("invalid signature")
    guard: ReplayGuard = channels.wechat_replay
    if not guard.fresh(timestamp or "", nonce or ""):
        return _refused("stale or replayed request")
    return None


@router.get("/webhooks/wechat")
async def wechat_verify(request: Request) -> Response:
    refused = _check(request)
    if refused is not None:
        return refused
    return PlainTextResponse(request.query_params.get("echostr", "")[:128])


@router.post("/webhooks/wechat")
async def wechat_message(request: Request) -> Response:
    refused = _check(request)
    if refused is not None:
        return refused
    channels = request.app.state.channels
    settings: WechatSettings = channels.wechat_settings
    crypto: WechatCrypto | None = channels.wechat_crypto
    q = request.query_params
    body = await request.body()
    encrypted = q.get("encrypt_type", "").lower() == "aes"
    if encrypted:
        if crypto is None:
            return PlainTextResponse("encrypted messages are not configured", status_code=400)
        try:
            cipher = encrypted_field(body)
        except BadXml:
            return PlainTextResponse("invalid XML", status_code=400)
        token = settings.token.get_secret_value()
        expected = msg_signature(token, q.get("timestamp", ""), q.get("nonce", ""), cipher)
        if not hmac.compare_digest(q.get("msg_signature", "").lower().encode(), expected.encode()):
            return _refused("invalid msg_signature")
        try:
            body = crypto.decrypt(cipher).encode()
        except CryptoError as exc:
            log.warning("wechat: undecryptable message (%s)", exc)
            return PlainTextResponse("invalid ciphertext", status_code=400)
    elif settings.require_encryption:
        return PlainTextResponse("plaintext messages are refused (safe mode)", status_code=400)
    try:
        incoming = parse_message(body)
    except BadXml:
        return PlainTextResponse("invalid XML", status_code=400)

    def reply(xml: str) -> Response:
        if encrypted and crypto is not None:
            xml = crypto.reply_xml(xml, settings.token.get_secret_value())
        return Response(xml, media_type=XML)

    if incoming.msg_type == "event":
        return PlainTextResponse("success")
    if incoming.msg_type != "text" or not incoming.content:
        return reply(text_reply(incoming, UNSUPPORTED_TEXT))
    state = request.app.state
    dispatcher = channels.dispatcher
    info = await anyio.to_thread.run_sync(conversation_for, state.store, "wechat", incoming.from_user)
    text = clean_channel_text(incoming.content[: state.settings.max_message_chars])
    async with dispatcher.turn(info.id):
        task = asyncio.create_task(
            state.router.handle_customer_message(info.id, text, client_msg_id=f"wx:{incoming.msg_id}"[:64])
        )
        _background.add(task)
        task.add_done_callback(_background.discard)
        done, _ = await asyncio.wait({task}, timeout=settings.passive_reply_seconds)
        if task not in done or task.exception() is not None:
            # Too slow (or failed): WeChat must hear from us within 5 s; the rest goes out later.
            return PlainTextResponse("success")
        result = task.result()
        if result.duplicate or not result.messages:
            return PlainTextResponse("success")  # a redelivery: the first delivery answers
        await dispatcher.mark_passive(info.id, [m.seq for m in result.messages])
        text_out = "\n\n".join(message_text(m.to_dict(), with_buttons=True) for m in result.messages)
        return reply(text_reply(incoming, text_out))
