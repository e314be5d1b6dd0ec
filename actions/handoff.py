"""Handing the conversation to a human agent, and spotting complaints that must be escalated."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.customer_text import typed_texts
from kefu.privacy import mask_sensitive
from tickets.escalation import escalation_note


def handoff_payload(reason: str, note: str) -> dict[str, Any]:
    """The custom payload the gateway turns into a place in the human queue."""
    return {"handoff": {"reason": reason, "note": mask_sensitive(note)[:500]}}


def escalation_reason(tracker: Tracker, *, merged: bool = False) -> str | None:
    """Why a complaint needs a human now, or None."""
    reason = escalation_note(" ".join(typed_texts(tracker)))
    if reason:
        return reason
    if merged:
        return "客户就同一未结工单重复来电"
    return None


def conversation_note(tracker: Tracker) -> str:
    """A short summary for the agent: last intent and the customer's recent words (masked)."""
    intent = (tracker.latest_message or {}).get("intent", {}).get("name") or ""
    recent = " / ".join(typed_texts(tracker, 3))
    return f"意图：{intent}；客户最近说：{recent}"


class ActionHandoff(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(
            text="正在为您转接人工客服…",
            json_message=handoff_payload("request_human", conversation_note(tracker)),
        )
        return []
