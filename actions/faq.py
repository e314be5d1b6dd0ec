"""Service-guide questions answered from retrieval, with the cited section."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import HELPFUL_BUTTONS, HUMAN_BUTTON, knowledge_base
from actions.customer_text import question_text
from retrieval.replies import HELPFUL_QUESTION, NO_ANSWER_TEXT

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
                text=NO_ANSWER_TEXT,
                buttons=[HUMAN_BUTTON],
            )
            return []
        dispatcher.utter_message(text=answer.text, json_message={"citations": list(answer.citations)})
        dispatcher.utter_message(text=HELPFUL_QUESTION, buttons=HELPFUL_BUTTONS)
        return []
