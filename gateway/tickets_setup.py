"""Hooks the tickets package into the gateway: the API token, the service (built by the lifespan in
:mod:`gateway.composition`), the overdue job, the rating prompt pushed into the customer's
conversation when a ticket is resolved, and the rating form answered in the chat."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from gateway.conversation_owner import publish_message
from gateway.conversations import ConversationInfo, ConversationStore, OutgoingMessage
from gateway.coordination import EventHub
from tickets import InvalidRating, NotTicketOwner, TicketNotFound, TicketService, TicketView, run_overdue_loop
from tickets.settings import get_ticket_settings

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    """At app creation: the tickets API token (unless the gateway's settings gave one)."""
    if not getattr(app.state, "api_token", ""):
        app.state.api_token = get_ticket_settings().api_token


def start(session_factory: sessionmaker[Session], hub: EventHub, store: ConversationStore) -> TicketService:
    """In the lifespan: the ticket service, whose resolved tickets ask for a rating in their chat."""
    settings = get_ticket_settings()
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
            stored, _ = store.append(view.conversation_id, message)
        except Exception as exc:  # conversation expired or from another channel: asked on next visit
            log.info("rating prompt for %s not delivered now: %s", view.id, type(exc).__name__)
            return
        # Announced like every stored message, so Telegram and WeChat customers get it live too.
        loop.call_soon_threadsafe(publish_message, hub, view.conversation_id, stored)

    return TicketService(session_factory, settings=settings, notifier=notify)


def overdue_job(service: TicketService) -> Callable[[], Awaitable[None]]:
    """The ``overdue_tickets`` background job."""
    seconds = get_ticket_settings().overdue_check_seconds
    return lambda: run_overdue_loop(service, seconds)


async def rate_from_form(service: TicketService, conv: ConversationInfo, raw: str) -> str:
    """The web chat's rating form: record it and say so, or say what is wrong (nothing is lost:
    the customer's message is stored either way and they can rate again)."""
    try:
        data = json.loads(raw)
        ticket_id = str(data["ticket_id"])
        score = int(data["score"])
        comment = str(data.get("comment") or "")[:500] or None
    except (ValueError, TypeError, KeyError, OverflowError):  # gateway.inbound refuses these first
        return "评价没有提交成功：评分格式不正确，请重新选择1到5颗星。"
    try:
        await asyncio.to_thread(
            lambda: service.rate_in_conversation(
                ticket_id=ticket_id, conversation_id=conv.id, score=score, comment=comment
            )
        )
    except (TicketNotFound, NotTicketOwner):
        return f"评价没有提交成功：本会话中没有找到工单{ticket_id}。"
    except InvalidRating as exc:
        return f"评价没有提交成功：{exc.message_zh}。"
    return f"感谢您的评价！工单{ticket_id}的评分已记录，我们会持续改进服务。"
