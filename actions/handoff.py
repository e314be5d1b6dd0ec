"""Handing the conversation to a human agent, and spotting complaints that must be escalated."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from kefu.privacy import mask_sensitive

# Words that show a complaint may escalate outside the company (regulator, consumer
# association, media, lawyers): such complaints go to a human at once.
ESCALATION_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("工信部", "客户提及向工信部申诉"),
    ("工业和信息化部", "客户提及向工信部申诉"),
    ("通信管理局", "客户提及向通信管理局申诉"),
    ("315", "客户提及315投诉"),
    ("消协", "客户提及消费者协会"),
    ("媒体", "客户提及媒体曝光"),
    ("曝光", "客户提及媒体曝光"),
    ("律师", "客户提及律师/法律途径"),
    ("起诉", "客户提及律师/法律途径"),
    ("12315", "客户提及12315投诉"),
)


def handoff_payload(reason: str, note: str) -> dict[str, Any]:
    """The custom payload the gateway turns into a place in the human queue."""
    return {"handoff": {"reason": reason, "note": mask_sensitive(note)[:500]}}


def user_texts(tracker: Tracker, limit: int = 20) -> list[str]:
    texts = [str(e.get("text") or "") for e in tracker.events if e.get("event") == "user"]
    return [t for t in texts if t and not t.startswith("/")][-limit:]


def escalation_reason(tracker: Tracker, *, merged: bool = False) -> str | None:
    """Why a complaint needs a human now, or None."""
    text = " ".join(user_texts(tracker))
    for word, reason in ESCALATION_KEYWORDS:
        if word in text:
            return reason
    if merged:
        return "客户就同一未结工单重复来电"
    return None


def conversation_note(tracker: Tracker) -> str:
    """A short summary for the agent: last intent and the customer's recent words (masked)."""
    intent = (tracker.latest_message or {}).get("intent", {}).get("name") or ""
    recent = " / ".join(user_texts(tracker, 3))
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
