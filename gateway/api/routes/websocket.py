"""The web chat's WebSocket: live messages, resumable by sequence number.

A client connects with ``?token=<customer token>&after=<last seq it has>``; it first receives
everything it missed, then new messages as they are stored. It may also send customer messages
(``{"type": "message", "text": ..., "client_msg_id": ...}``); a resend with the same
``client_msg_id`` after a reconnect is stored once. Frames are bounded in size
(``KEFU_WS_MAX_FRAME_BYTES``, close 1009) and rate (``KEFU_WS_FRAMES_PER_MINUTE``); a frame that is
no valid message gets an error frame and nothing is stored.

Close codes before the socket opens: 4401 no token, 4403 wrong token, 4404 unknown conversation,
4400 bad ``after``, 1008 origin not allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from gateway.api.routes.conversations import validate_text
from gateway.api.routes.socket_events import events_while_connected, stop_reader
from gateway.conversations import ConversationNotFound
from gateway.customer_tokens import HEADER as CUSTOMER_TOKEN_HEADER
from gateway.errors import ApiError
from gateway.hub import conversation_topic
from gateway.inbound import MAX_SEQ, check_client_msg_id
from gateway.limits import PublicLimits
from gateway.routing import ConversationRouter

log = logging.getLogger(__name__)
router = APIRouter()


def origin_allowed(origin: str | None, allowed: list[str], own: str) -> bool:
    """Browsers send Origin; only the gateway itself and configured sites may connect."""
    if origin is None:
        return True  # not a browser (tests, server-side clients)
    origin = origin.rstrip("/")
    return origin == own.rstrip("/") or origin in {a.rstrip("/") for a in allowed} or "*" in allowed


def parse_after(raw: str) -> int | None:
    """``after`` as a sequence number, or None if it is not one (negative, huge, not an integer)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if value <= MAX_SEQ else None


@router.websocket("/ws/conversations/{conversation_id}")
async def conversation_socket(
    websocket: WebSocket, conversation_id: str, after: str = "0", token: str = ""
) -> None:
    state = websocket.app.state
    settings = state.settings
    own = f"{websocket.url.scheme.replace('ws', 'http')}://{websocket.headers.get('host', '')}"
    if not origin_allowed(websocket.headers.get("origin"), settings.allowed_origins, own):
        await websocket.close(code=1008, reason="origin not allowed")
        return
    token = token or websocket.headers.get(CUSTOMER_TOKEN_HEADER.lower(), "")
    if not token:
        await websocket.close(code=4401, reason="customer token required")
        return
    if not state.customer_tokens.verify(conversation_id, token):
        await websocket.close(code=4403, reason="invalid customer token")
        return
    start = parse_after(after)
    if start is None:
        await websocket.close(code=4400, reason="after must be a sequence number")
        return
    after_seq = start
    chat_router: ConversationRouter = state.router
    try:
        info = await anyio.to_thread.run_sync(chat_router.store.get, conversation_id)
    except ConversationNotFound:
        await websocket.close(code=4404, reason="conversation not found")
        return
    await websocket.accept()
    async with state.hub.subscribe(conversation_topic(conversation_id)) as queue:
        last_sent = after_seq
        backlog = await anyio.to_thread.run_sync(chat_router.store.messages_after, conversation_id, after_seq)
        await websocket.send_json({"type": "state", "handled_by": info.state})
        for message in backlog:
            await websocket.send_json({"type": "message", "message": message.to_dict()})
            last_sent = message.seq
        reader = asyncio.create_task(_read_client(websocket, chat_router, conversation_id))
        try:
            async for event in events_while_connected(queue, reader):
                if event.get("type") == "message":
                    seq = int(event["message"]["seq"])
                    if seq <= last_sent:
                        continue
                    if seq > last_sent + 1:  # missed something (queue overflow): resync from the DB
                        for message in await anyio.to_thread.run_sync(
                            chat_router.store.messages_after, conversation_id, last_sent
                        ):
                            await websocket.send_json({"type": "message", "message": message.to_dict()})
                            last_sent = message.seq
                        continue
                    last_sent = seq
                await websocket.send_json({k: v for k, v in event.items() if k != "conversation_id"})
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            await stop_reader(reader)


async def _read_client(websocket: WebSocket, chat_router: ConversationRouter, conversation_id: str) -> None:
    """Receive customer frames until the socket closes."""
    pending: set[asyncio.Task[Any]] = set()
    settings = websocket.app.state.settings
    limits: PublicLimits = websocket.app.state.limits
    socket_key = f"ws:{id(websocket)}"
    try:
        while True:
            raw = await websocket.receive()
            if raw["type"] == "websocket.disconnect":
                return
            data = raw.get("text")
            if data is None:
                data = raw.get("bytes") or b""
            size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
            if size > settings.ws_max_frame_bytes:
                await websocket.close(code=1009, reason="frame too large")
                return
            if limits.ws_frames.hit(socket_key) > 0:
                await _send_error(websocket, "rate_limited", "发送过于频繁，请稍后再试 / Too many frames")
                continue
            try:
                frame = json.loads(data)
            except (ValueError, RecursionError):
                await _send_error(websocket, "invalid_json", "消息格式错误 / Frame is not valid JSON")
                continue
            if not isinstance(frame, dict) or frame.get("type") != "message":
                if isinstance(frame, dict) and frame.get("type") == "ping":
                    await websocket.send_json({"type": "pong"})
                else:
                    await _send_error(
                        websocket,
                        "invalid_frame",
                        '消息格式错误 / A frame must be {"type": "message", "text": "..."} or a ping',
                    )
                continue
            echo = frame.get("client_msg_id")
            echo = echo if isinstance(echo, str | int) and not isinstance(echo, bool) else None
            try:
                text = validate_text(frame.get("text"), settings)
                client_id = check_client_msg_id(frame.get("client_msg_id"))
            except ApiError as exc:
                await _send_error(websocket, exc.code, f"{exc.zh} / {exc.en}", _safe_echo(echo))
                continue
            if limits.messages_per_conversation.hit(f"msg:{conversation_id}") > 0:
                await _send_error(
                    websocket, "rate_limited", "发送过于频繁，请稍后再试 / Too many messages", client_id
                )
                continue
            task = asyncio.create_task(_handle(websocket, chat_router, conversation_id, text, client_id))
            pending.add(task)
            task.add_done_callback(pending.discard)
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        # Messages already accepted are still answered and stored even if the socket closed.
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def _safe_echo(value: Any) -> str | None:
    """A client id fit to send back in an error frame (JSON-encodable, bounded)."""
    if value is None:
        return None
    text = str(value)[:64]
    return text.encode("utf-8", "replace").decode("utf-8") if text.isprintable() else None


async def _handle(
    websocket: WebSocket,
    chat_router: ConversationRouter,
    conversation_id: str,
    text: str,
    client_id: str | None,
) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_json({"type": "typing", "client_msg_id": client_id})
    try:
        result = await chat_router.handle_customer_message(conversation_id, text, client_msg_id=client_id)
    except Exception as exc:  # never lose the socket over one message
        log.exception("message handling failed: %s", exc)
        with contextlib.suppress(Exception):
            await _send_error(websocket, "internal_error", "消息处理失败，请重试 / Message failed", client_id)
        return
    with contextlib.suppress(Exception):
        await websocket.send_json({"type": "state", "handled_by": result.handled_by})


async def _send_error(websocket: WebSocket, code: str, message: str, client_id: Any = None) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_json(
            {"type": "error", "error": {"code": code, "message": message}, "client_msg_id": client_id}
        )
