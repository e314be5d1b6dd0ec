"""Two-stage fallback: first the two likeliest intents as buttons, twice in a row a human.

A message the NLU could not place may still be a question the service guide answers (long real-world
wordings, 「…的话需要准备什么」): when the knowledge base's gate is confident, the customer reads the
guide's answer with its citation instead of a choice of intents or a handoff; the gate is calibrated to
decline off-topic questions (docs/kb_gate.md), so vague messages (「那个东西怎么弄」) still get the
buttons."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import HELPFUL_BUTTONS, HUMAN_BUTTON
from actions.customer_text import question_text
from actions.faq import answer_rule_question
from actions.handoff import conversation_note, handoff_payload
from retrieval.replies import HELPFUL_QUESTION

INTENT_LABELS = {
    "ask_tariff": "咨询套餐资费",
    "ask_policy": "咨询业务规定",
    "report_fault": "故障报修",
    "complain": "投诉",
    "change_plan": "变更套餐",
    "order_addon": "订购流量/语音包",
    "apply_service": "办理新业务",
    "port_number": "携号转网",
    "cancel_service": "销户/拆机",
    "query_account": "查询话费流量",
    "check_ticket": "查询工单进度",
    "request_human": "转人工客服",
    "greet": "打招呼",
    "bot_challenge": "了解我是谁",
}


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user messages in a row fell below the confidence threshold and went
    unanswered: one the guide answered (its quote is followed by 「以上回答对您有帮助吗？」) helped the
    customer, so it does not count toward the handoff."""
    count = 0
    answered = False
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and event.get("text") == HELPFUL_QUESTION:
            answered = True
            continue
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != "nlu_fallback" or answered:
            break
        count += 1
    return count


def top_intents(tracker: Tracker, n: int = 2) -> list[str]:
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    names = [r.get("name") for r in ranking if r.get("name") in INTENT_LABELS]
    return [str(x) for x in names[:n]]


class ActionFallback(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if answer_rule_question(dispatcher, question_text(tracker)):
            dispatcher.utter_message(text=HELPFUL_QUESTION, buttons=HELPFUL_BUTTONS)
            return []
        if consecutive_fallbacks(tracker) >= 2:
            dispatcher.utter_message(
                text="抱歉，我还是没能理解您的问题，正在为您转接人工客服…",
                json_message=handoff_payload("fallback", conversation_note(tracker)),
            )
            return []
        buttons = [{"title": INTENT_LABELS[i], "payload": f"/{i}"} for i in top_intents(tracker)]
        buttons.append(HUMAN_BUTTON)
        dispatcher.utter_message(text="抱歉，我不太确定您的意思，您是想：", buttons=buttons)
        return []
