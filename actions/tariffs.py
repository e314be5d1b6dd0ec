"""Tariff questions answered from the catalogue (never from free text)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import HELPFUL_BUTTONS, HUMAN_BUTTON, catalogue
from actions.customer_text import question_text
from tariffs.catalogue import CatalogueError
from tariffs.query import answer_tariff_question

log = logging.getLogger(__name__)


class ActionAnswerTariff(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_answer_tariff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = question_text(tracker)
        plan = tracker.get_slot("plan_name")
        if plan and str(plan) not in text:
            text = f"{text} {plan}"
        try:
            reply = answer_tariff_question(catalogue(), text)
        except CatalogueError:
            log.exception("tariff catalogue unavailable")
            dispatcher.utter_message(
                text="抱歉，资费信息暂时无法查询，请稍后再试或转人工客服。", buttons=[HUMAN_BUTTON]
            )
            return [SlotSet("plan_name", None)]
        dispatcher.utter_message(text=reply)
        dispatcher.utter_message(text="以上信息对您有帮助吗？", buttons=HELPFUL_BUTTONS)
        return [SlotSet("plan_name", None)]
