"""WeChat Official Account server URL: ``GET/POST /webhooks/wechat``.

GET is the verification handshake; POST carries signed XML messages. The bot's answer
goes back as a passive reply when it comes within ``passive_reply_seconds``; otherwise
we answer "success" and the dispatcher sends it through the customer-service API.
"""

from __future__ import annotations

import asyncio
import logging

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from gateway.channels.mapping import conversation_for
from gateway.channels.render import message_text
from gateway.channels.wechat import BadXml, parse_message, signature_ok, text_reply
from gateway.routing import RouteResult

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])
UNSUPPORTED_TEXT = "目前仅支持文字消息，请用文字描述您的问题。"
_background: set[asyncio.Task[RouteResult]] = set()


def _signed(request: Request) -> bool:
    q = request.query_params
    settings = request.app.state.channels.wechat_settings
    return bool(settings.enabled) and signature_ok(
        settings, q.get("signature"), q.get("timestamp"), q.get("nonce")
    )


@router.get("/webhooks/wechat")
async def wechat_verify(request: Request) -> Response:
    if not _signed(request):
        return PlainTextResponse("invalid signature", status_code=401)
    return PlainTextResponse(request.query_params.get("echostr", ""))


@router.post("/webhooks/wechat")
async def wechat_message(request: Request) -> Response:
    if not _signed(request):
        return PlainTextResponse("invalid signature", status_code=401)
    try:
        incoming = parse_message(await request.body())
    except BadXml:
        return PlainTextResponse("invalid XML", status_code=400)
    if incoming.msg_type == "event":
        return PlainTextResponse("success")
    xml = "application/xml; charset=utf-8"
    if incoming.msg_type != "text" or not incoming.content:
        return Response(text_reply(incoming, UNSUPPORTED_TEXT), media_type=xml)
    state = request.app.state
    dispatcher = state.channels.dispatcher
    info = await anyio.to_thread.run_sync(conversation_for, state.store, "wechat", incoming.from_user)
    text = incoming.content[: state.settings.max_message_chars]
    async with dispatcher.turn(info.id):
        task = asyncio.create_task(
            state.router.handle_customer_message(info.id, text, client_msg_id=f"wx:{incoming.msg_id}")
        )
        _background.add(task)
        task.add_done_callback(_background.discard)
        done, _ = await asyncio.wait({task}, timeout=state.channels.wechat_settings.passive_reply_seconds)
        if task not in done or task.exception() is not None:
            # Too slow (or failed): WeChat must hear from us within 5 s; the rest goes out later.
            return PlainTextResponse("success")
        result = task.result()
        if result.duplicate or not result.messages:
            return PlainTextResponse("success")  # a redelivery: the first delivery answers
        dispatcher.mark_passive(info.id, [m.seq for m in result.messages])
        body = "\n\n".join(message_text(m.to_dict(), with_buttons=True) for m in result.messages)
        return Response(text_reply(incoming, body), media_type=xml)
