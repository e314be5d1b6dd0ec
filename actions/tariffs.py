"""Tariff questions answered from the catalogue, citing the guide section the offers are answered under.

When the catalogue has nothing specific to say (it would only list the plans), the question is about a
rule rather than an offer's row (「流量超了一个G多少钱」「副卡怎么收费」「九十九的套餐包含多少流量」), and
the knowledge base answers it if its gate is confident; otherwise the plans are listed as before.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import HELPFUL_BUTTONS, HUMAN_BUTTON, catalogue
from actions.customer_text import question_text
from actions.faq import policy_answer
from retrieval.replies import HELPFUL_QUESTION
from tariffs.catalogue import CatalogueError
from tariffs.query import tariff_answer

log = logging.getLogger(__name__)


class ActionAnswerTariff(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_answer_tariff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        question = text = question_text(tracker)
        plan = tracker.get_slot("plan_name")
        if plan and str(plan) not in text:
            text = f"{text} {plan}"
        try:
            tariffs = catalogue()
            reply = tariff_answer(tariffs, text)
        except CatalogueError:
            log.exception("tariff catalogue unavailable")
            dispatcher.utter_message(
                text="抱歉，资费信息暂时无法查询，请稍后再试或转人工客服。", buttons=[HUMAN_BUTTON]
            )
            return [SlotSet("plan_name", None)]
        policy = policy_answer(question) if reply.overview else None
        if policy is not None:
            dispatcher.utter_message(text=policy.text, json_message={"citations": list(policy.citations)})
            dispatcher.utter_message(text=HELPFUL_QUESTION, buttons=HELPFUL_BUTTONS)
            return [SlotSet("plan_name", None)]
        cite = tariffs.citation
        if cite:
            cited = f"{reply.text}\n（依据《服务指南》{cite['section']}）"
            dispatcher.utter_message(text=cited, json_message={"citations": [cite]})
        else:
            dispatcher.utter_message(text=reply.text)
        dispatcher.utter_message(text="以上信息对您有帮助吗？", buttons=HELPFUL_BUTTONS)
        return [SlotSet("plan_name", None)]
