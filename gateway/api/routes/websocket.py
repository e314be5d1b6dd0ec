"""The web chat's WebSocket: live messages, resumable by sequence number.

A client connects with ``?after=<last seq it has>``; it first receives everything it
missed, then new messages as they are stored. It may also send customer messages
(``{"type": "message", "text": ..., "client_msg_id": ...}``); a resend with the same
``client_msg_id`` after a reconnect is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from gateway.api.routes.conversations import validate_text
from gateway.conversations import ConversationNotFound
from gateway.errors import ApiError
from gateway.hub import conversation_topic
from gateway.routing import ConversationRouter

log = logging.getLogger(__name__)
router = APIRouter()


def origin_allowed(origin: str | None, allowed: list[str], own: str) -> bool:
    """Browsers send Origin; only the gateway itself and configured sites may connect."""
    if origin is None:
        return True  # not a browser (tests, server-side clients)
    origin = origin.rstrip("/")
    return origin == own.rstrip("/") or origin in {a.rstrip("/") for a in allowed} or "*" in allowed


@router.websocket("/ws/conversations/{conversation_id}")
async def conversation_socket(websocket: WebSocket, conversation_id: str, after: int = 0) -> None:
    state = websocket.app.state
    settings = state.settings
    own = f"{websocket.url.scheme.replace('ws', 'http')}://{websocket.headers.get('host', '')}"
    if not origin_allowed(websocket.headers.get("origin"), settings.allowed_origins, own):
        await websocket.close(code=1008, reason="origin not allowed")
        return
    chat_router: ConversationRouter = state.router
    try:
        info = await anyio.to_thread.run_sync(chat_router.store.get, conversation_id)
    except ConversationNotFound:
        await websocket.close(code=4404, reason="conversation not found")
        return
    await websocket.accept()
    async with state.hub.subscribe(conversation_topic(conversation_id)) as queue:
        last_sent = after
        backlog = await anyio.to_thread.run_sync(chat_router.store.messages_after, conversation_id, after)
        await websocket.send_json({"type": "state", "handled_by": info.state})
        for message in backlog:
            await websocket.send_json({"type": "message", "message": message.to_dict()})
            last_sent = message.seq
        reader = asyncio.create_task(_read_client(websocket, chat_router, conversation_id))
        try:
            while not reader.done():
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                event = getter.result()
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
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader


async def _read_client(websocket: WebSocket, chat_router: ConversationRouter, conversation_id: str) -> None:
    """Receive customer frames until the socket closes."""
    pending: set[asyncio.Task[Any]] = set()
    try:
        while True:
            try:
                frame = await websocket.receive_json()
            except WebSocketDisconnect:
                return
            except ValueError:
                await _send_error(websocket, "invalid_json", "消息格式错误 / Frame is not valid JSON")
                continue
            if not isinstance(frame, dict) or frame.get("type") != "message":
                if isinstance(frame, dict) and frame.get("type") == "ping":
                    await websocket.send_json({"type": "pong"})
                continue
            try:
                text = validate_text(str(frame.get("text", "")), websocket.app.state.settings)
            except ApiError as exc:
                await _send_error(websocket, exc.code, f"{exc.zh} / {exc.en}", frame.get("client_msg_id"))
                continue
            client_id = frame.get("client_msg_id")
            client_id = str(client_id)[:64] if client_id else None
            task = asyncio.create_task(_handle(websocket, chat_router, conversation_id, text, client_id))
            pending.add(task)
            task.add_done_callback(pending.discard)
    finally:
        # Messages already accepted are still answered and stored even if the socket closed.
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


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
