"""Telegram Bot API webhook: ``POST /webhooks/telegram``.

The secret-token header is checked before anything is read; replies go out through
the outbound dispatcher (Bot API ``sendMessage``), never in the webhook response.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from gateway.channels.mapping import conversation_for
from gateway.channels.telegram import parse_update, secret_ok
from gateway.inbound import clean_channel_text

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])


@router.post("/webhooks/telegram")
async def telegram_webhook(
    request: Request,
    x_telegram_bot_api_secret_token: str | None = Header(default=None),
) -> JSONResponse:
    channels = request.app.state.channels
    if not channels.telegram_settings.enabled or not secret_ok(
        x_telegram_bot_api_secret_token, channels.telegram_settings
    ):
        return JSONResponse({"ok": False, "error": "invalid secret token"}, status_code=401)
    try:
        update: Any = await request.json()
    except (ValueError, RecursionError):
        return JSONResponse({"ok": False, "error": "invalid JSON"}, status_code=400)
    incoming = parse_update(update) if isinstance(update, dict) else None
    if incoming is None or not incoming.text.strip():
        return JSONResponse({"ok": True})  # nothing a customer said: acknowledge so Telegram stops retrying
    if incoming.callback_query_id and channels.telegram is not None:
        await channels.telegram.answer_callback(incoming.callback_query_id)
    store = request.app.state.store
    chat_id = clean_channel_text(incoming.chat_id)[:64]  # the columns' bounds, even for a signed update
    info = await anyio.to_thread.run_sync(conversation_for, store, "telegram", chat_id)
    text = clean_channel_text(incoming.text.strip()[: request.app.state.settings.max_message_chars])
    await request.app.state.router.handle_customer_message(
        info.id, text, client_msg_id=clean_channel_text(incoming.client_msg_id)[:64]
    )
    return JSONResponse({"ok": True})
