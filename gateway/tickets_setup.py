"""Hooks the tickets package into the gateway: the service on ``app.state``, the API token, the overdue job,
and the rating prompt pushed into the customer's conversation when a ticket is resolved."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from gateway.conversations import OutgoingMessage
from gateway.hub import conversation_topic
from tickets.overdue import run_overdue_loop
from tickets.service import TicketService, TicketView
from tickets.settings import get_ticket_settings

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    settings = get_ticket_settings()
    if not getattr(app.state, "api_token", ""):
        app.state.api_token = settings.api_token

    async def start(app: FastAPI) -> asyncio.Task[None]:
        loop = asyncio.get_running_loop()

        def notify(view: TicketView, event: str) -> None:
            """Ask for a rating in the conversation the ticket came from (now; else on the next visit)."""
            if not view.conversation_id or view.status != "resolved":
                return
            prompt = (
                f"您的工单{view.id}（{view.type_label}）已处理完毕。请为本次服务打分（1–5分），也可留下意见。"
            )
            message = OutgoingMessage(sender="bot", text=prompt, custom={"csat": {"ticket_id": view.id}})
            try:
                stored, _ = app.state.store.append(view.conversation_id, message)
            except Exception as exc:  # conversation expired or from another channel: asked on next visit
                log.info("rating prompt for %s not delivered now: %s", view.id, type(exc).__name__)
                return
            published = {
                "type": "message",
                "conversation_id": view.conversation_id,
                "message": stored.to_dict(),
            }
            loop.call_soon_threadsafe(
                app.state.hub.publish, conversation_topic(view.conversation_id), published
            )

        service = TicketService(app.state.session_factory, settings=settings, notifier=notify)
        app.state.ticket_service = service
        return asyncio.create_task(run_overdue_loop(service, settings.overdue_check_seconds))

    app.state.startup_hooks.append(start)
