"""Service-guide questions answered from retrieval, with the cited section.

A question about a rule can also arrive with another intent: 「携号转网要带什么」 is port_number in the
NLU's labels, and starts identity verification. :func:`answer_rule_question` lets such a flow answer
it from the guide first (the form then goes on), so the customer reads the rule and can still act.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import HELPFUL_BUTTONS, HUMAN_BUTTON, knowledge_base
from actions.customer_text import question_text
from retrieval.replies import HELPFUL_QUESTION, NO_ANSWER_TEXT
from retrieval.results import KbAnswer

log = logging.getLogger(__name__)

QUESTION_WORD = re.compile(r"什么|啥|哪|吗|呢|[？?]|多少|几")


def policy_answer(question: str) -> KbAnswer | None:
    """The knowledge base's answer, or None when its gate is not confident or it is unavailable."""
    try:
        return knowledge_base().answer(question) if question else None
    except Exception:
        log.exception("knowledge base unavailable")
        return None


def asks_about_a_rule(text: str) -> bool:
    """The message asks how, when, what or whether (a question type or a question word), rather than
    only wishing to act (「我要携号转网」「帮我销户」)."""
    from retrieval.question_analysis import question_type  # the action server starts without retrieval
    from retrieval.tokenizer import clean_query

    asked = clean_query(text)
    return question_type(asked) is not None or QUESTION_WORD.search(asked) is not None


def answer_rule_question(dispatcher: CollectingDispatcher, question: str) -> bool:
    """Quote the guide's answer with its citation when `question` asks about a rule and the gate is
    confident; True when something was said."""
    answer = policy_answer(question) if question and asks_about_a_rule(question) else None
    if answer is not None:
        dispatcher.utter_message(text=answer.text, json_message={"citations": list(answer.citations)})
    return answer is not None


class ActionAnswerPolicy(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        question = question_text(tracker)
        answer = policy_answer(question)
        if answer is None:
            dispatcher.utter_message(
                text=NO_ANSWER_TEXT,
                buttons=[HUMAN_BUTTON],
            )
            return []
        dispatcher.utter_message(text=answer.text, json_message={"citations": list(answer.citations)})
        dispatcher.utter_message(text=HELPFUL_QUESTION, buttons=HELPFUL_BUTTONS)
        return []


class RuleQuestionFirst(FormValidationAction, ABC):  # type: ignore[misc]
    """A form's validation that, on activation (nothing requested yet), answers a question about a rule
    that started the form (「携号转网要带什么」「投诉完多久有结果」) from the guide before the form asks.
    Abstract, so that the action server does not register it as an action of its own."""

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("requested_slot") is None:
            answer_rule_question(dispatcher, question_text(tracker))
        events: list[EventType] = await super().run(dispatcher, tracker, domain)
        return events
