"""The agent console: its page (``/console``) and its live WebSocket (``/ws/agent?token=…``).

The socket pushes queue changes to every agent, and the messages of the conversations an agent
holds (supervisors: all). Agents may also write to a held conversation over it
(``{"type": "message", "conversation_id": ..., "text": ...}``).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse

from gateway.agents.actor import Actor, DeskError
from gateway.agents.auth import AgentDirectory
from gateway.agents.desk import AgentDesk
from gateway.agents.desk_reads import masked_message
from gateway.api.routes.socket_events import events_while_connected, stop_reader
from gateway.conversations import ConversationNotFound, StoredMessage
from gateway.hub import CONSOLE_TOPIC

log = logging.getLogger(__name__)
router = APIRouter(tags=["agent console"])
STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"
# The console shows customer text; a strict policy makes any markup that slipped through inert.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@router.get("/console", include_in_schema=False)
async def console_page() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "console.html",
        headers={"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "Cache-Control": "no-store"},
    )


@router.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket, token: str = "") -> None:
    state = websocket.app.state
    directory: AgentDirectory = state.agent_directory
    agent = await anyio.to_thread.run_sync(directory.authenticate, token)
    if agent is None:
        await websocket.close(code=4401, reason="not authenticated")
        return
    desk: AgentDesk = state.agent_desk
    client = websocket.client.host if websocket.client else None
    actor = Actor(agent.username, agent.role, client)
    await websocket.accept()
    desk.online[actor.username] += 1
    desk.hub.publish(CONSOLE_TOPIC, {"type": "agents", "username": actor.username, "online": True})
    try:
        async with desk.hub.subscribe(CONSOLE_TOPIC) as queue:
            await websocket.send_json({"type": "hello", "username": actor.username, "role": actor.role})
            reader = asyncio.create_task(_read(websocket, desk, actor, directory, token))
            try:
                async for event in events_while_connected(queue, reader):
                    outgoing = await _visible(desk, actor, event)
                    if outgoing is not None:
                        await websocket.send_json(outgoing)
            except (WebSocketDisconnect, RuntimeError):
                pass
            finally:
                await stop_reader(reader)
    finally:
        desk.online[actor.username] -= 1
        if desk.online[actor.username] <= 0:
            del desk.online[actor.username]
        desk.hub.publish(CONSOLE_TOPIC, {"type": "agents", "username": actor.username, "online": False})


async def _visible(desk: AgentDesk, actor: Actor, event: dict[str, Any]) -> dict[str, Any] | None:
    """What of a console event this agent may see (messages masked)."""
    if event.get("type") != "message":
        return event
    conversation_id = str(event.get("conversation_id"))
    if not actor.supervises:
        try:
            info = await anyio.to_thread.run_sync(desk.store.get, conversation_id)
        except ConversationNotFound:
            return None
        if info.assigned_agent != actor.username and info.state != "queue":
            return None
    raw = event.get("message") or {}
    message = StoredMessage(
        seq=int(raw.get("seq", 0)),
        sender=str(raw.get("sender", "")),
        text=str(raw.get("text", "")),
        buttons=list(raw.get("buttons") or []),
        citations=list(raw.get("citations") or []),
        custom=dict(raw.get("custom") or {}),
    )
    data = masked_message(message)
    data["created_at"] = raw.get("created_at")
    return {"type": "message", "conversation_id": conversation_id, "message": data}


async def _read(
    websocket: WebSocket, desk: AgentDesk, actor: Actor, directory: AgentDirectory, token: str
) -> None:
    while True:
        try:
            frame = await websocket.receive_json()
        except WebSocketDisconnect:
            return
        except ValueError:
            await websocket.send_json({"type": "error", "error": {"code": "invalid_json"}})
            continue
        if not isinstance(frame, dict):
            continue
        if frame.get("type") == "ping":
            # A sign-in that expired or was revoked ends the socket too.
            if await anyio.to_thread.run_sync(directory.authenticate, token) is None:
                await websocket.close(code=4401, reason="session expired")
                return
            await websocket.send_json({"type": "pong"})
        elif frame.get("type") == "message":
            try:
                stored = await desk.send(
                    actor, str(frame.get("conversation_id", "")), str(frame.get("text", ""))
                )
            except DeskError as exc:
                await websocket.send_json(
                    {"type": "error", "error": {"code": exc.code, "message": f"{exc.zh} / {exc.en}"}}
                )
            else:
                await websocket.send_json(
                    {"type": "sent", "seq": stored.seq, "client_id": frame.get("client_id")}
                )
