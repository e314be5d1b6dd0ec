"""Service-guide questions answered from retrieval, with the cited section."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import HELPFUL_BUTTONS, HUMAN_BUTTON, knowledge_base
from actions.customer_text import question_text

log = logging.getLogger(__name__)


class ActionAnswerPolicy(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        question = question_text(tracker)
        answer = None
        try:
            answer = knowledge_base().answer(question) if question else None
        except Exception:
            log.exception("knowledge base unavailable")
        if answer is None:
            dispatcher.utter_message(
                text="抱歉，我在服务指南里没有找到可靠的答案，不想随便回答误导您。您可以换个说法，或转人工客服为您解答。",
                buttons=[HUMAN_BUTTON],
            )
            return []
        dispatcher.utter_message(text=answer.text, json_message={"citations": list(answer.citations)})
        dispatcher.utter_message(text="以上回答对您有帮助吗？", buttons=HELPFUL_BUTTONS)
        return []
