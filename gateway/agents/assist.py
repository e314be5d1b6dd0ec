"""Agent assist: what the bot understood (intents, confidences, slots), who the customer is
(masked), their tickets, and knowledge-base passages for the customer's last message."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from accounts.phone import normalize_mobile
from gateway.agents.handoffs import HandoffView
from gateway.agents.policy import reason_for
from gateway.conversations import StoredMessage
from gateway.payload_labels import last_typed_text
from gateway.rasa_client import RasaClient, RasaUnavailable
from kefu.privacy import mask_phone, mask_sensitive

if TYPE_CHECKING:
    from tickets import TicketService

log = logging.getLogger(__name__)
# The bot's slots that may hold the customer's phone, the SMS-verified one first.
PHONE_SLOTS = ("verified_phone", "contact_phone", "verify_phone", "phone_number")
HIDDEN_SLOTS = {"otp_code", "session_started_metadata"}


def _float(value: Any) -> float | None:
    try:
        return round(float(value), 3)
    except (TypeError, ValueError):
        return None


def understanding(tracker: dict[str, Any]) -> dict[str, Any]:
    """Intents per customer message, the latest ranking, and the filled slots (masked)."""
    turns = []
    for event in tracker.get("events") or []:
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        turns.append(
            {
                "text": mask_sensitive(str(event.get("text") or ""))[:200],
                "intent": intent.get("name"),
                "confidence": _float(intent.get("confidence")),
            }
        )
    latest = tracker.get("latest_message") or {}
    ranking = [
        {"intent": r.get("name"), "confidence": _float(r.get("confidence"))}
        for r in (latest.get("intent_ranking") or [])[:5]
        if isinstance(r, dict)
    ]
    slots = {
        name: mask_sensitive(str(value))[:200]
        for name, value in (tracker.get("slots") or {}).items()
        if value not in (None, "", [], {}) and name not in HIDDEN_SLOTS
    }
    loop = (tracker.get("active_loop") or {}).get("name")
    return {"intents": turns[-10:], "ranking": ranking, "slots": slots, "active_form": loop}


def phone_from_slots(slots: dict[str, Any]) -> tuple[str | None, bool]:
    """The customer's mobile from the bot's slots (verified first), and whether SMS verified it."""
    for name in PHONE_SLOTS:
        value = slots.get(name)
        phone = normalize_mobile(value) if isinstance(value, str) else None
        if phone:
            return phone, name == "verified_phone"
    return None, False


def customer_phone(tracker: dict[str, Any]) -> tuple[str | None, bool]:
    """The customer's phone from the bot's slots, and whether it was verified by SMS."""
    return phone_from_slots(tracker.get("slots") or {})


def _ticket(view: Any) -> dict[str, Any]:
    return {
        "id": view.id,
        "type_label": view.type_label,
        "category_label": view.category_label,
        "status": view.status,
        "status_label": view.status_label,
        "severity": view.severity,
        "department_label": view.department_label,
        "created_at": view.created_at.isoformat(),
        "due_at": view.due_at.isoformat(),
        "overdue": view.overdue,
        "description": mask_sensitive(view.description)[:200],
    }


class Assist:
    def __init__(
        self,
        rasa: RasaClient,
        knowledge_base: Callable[[], Any],
        tickets: Callable[[], TicketService],
        verified_phone: Callable[[str], str | None],
        kb_hits: int = 3,
    ) -> None:
        self.rasa = rasa
        # The server's verification record (accounts), never the bot's verified_phone slot.
        self.verified_phone = verified_phone
        self.knowledge_base = knowledge_base
        self.tickets = tickets
        self.kb_hits = kb_hits

    async def build(
        self, conversation_id: str, messages: list[StoredMessage], handoff: HandoffView | None
    ) -> dict[str, Any]:
        notices: list[str] = []
        try:
            tracker = await self.rasa.tracker(conversation_id)
        except RasaUnavailable as exc:
            log.warning("tracker of %s unavailable: %s", conversation_id[:8], exc)
            tracker = {}
            notices.append("智能助手状态暂不可用（Rasa 未响应），意图与槽位信息缺失。")
        proven = await anyio.to_thread.run_sync(self.verified_phone, conversation_id)
        phone = proven or customer_phone(tracker)[0]
        verified = proven is not None
        tickets: list[dict[str, Any]] = []
        if phone:
            service = self.tickets()
            try:
                views = await anyio.to_thread.run_sync(service.list_for_customer, phone)
                tickets = [_ticket(v) for v in views[:10]]
            except Exception as exc:
                log.warning("tickets for the customer of %s unavailable: %s", conversation_id[:8], exc)
                notices.append("工单信息暂不可用。")
        last = last_typed_text(messages)
        passages: list[dict[str, Any]] = []
        kb = self.knowledge_base()
        if kb is None:
            notices.append("知识库索引尚未加载，暂无推荐段落。")
        elif last:
            try:
                response = await anyio.to_thread.run_sync(lambda: kb.search(last, k=self.kb_hits))
                passages = [
                    {
                        "section": h.section,
                        "title": h.title,
                        "text": h.text[:400],
                        "score": round(float(h.score), 3),
                    }
                    for h in response.hits
                ]
            except Exception as exc:
                log.warning("KB search for agent assist failed: %s", exc)
                notices.append("知识库检索失败。")
        return {
            "conversation_id": conversation_id,
            "understanding": understanding(tracker),
            "customer": {
                "phone_masked": mask_phone(phone) if phone else None,
                "verified": verified,
            },
            "tickets": tickets,
            "kb_query": mask_sensitive(last)[:200],
            "kb_passages": passages,
            "handoff": {
                "reason": handoff.reason,
                "reason_label": reason_for(handoff.reason).label,
                "note": mask_sensitive(handoff.note),
                "after_hours": handoff.after_hours,
                "ticket_id": handoff.ticket_id,
            }
            if handoff
            else None,
            "notices": notices,
        }
