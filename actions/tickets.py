"""Submitting the fault, complaint and application forms: open the ticket, exactly once per message.

The forms' validation is ``actions.ticket_forms``. The ticket carries the idempotency key of the
confirming message (``actions.request_keys``), so a replay of that message gives the same ticket.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from accounts.phone import normalize_mobile
from actions.common import ticket_service, verification_service
from actions.handoff import escalation_reason, handoff_payload
from actions.request_keys import request_key
from tickets import InvalidTicketData
from tickets.forms import FORM_SLOTS, FORMS, describe_ticket

log = logging.getLogger(__name__)


def _reset_form() -> list[EventType]:
    return [SlotSet(s, None) for s in FORM_SLOTS if s != "contact_phone"]


def _channel(tracker: Tracker) -> str:
    return str(tracker.get_latest_input_channel() or "rest")


class _SubmitAction(Action, ABC):  # type: ignore[misc]
    form = ""

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("form_confirmed") != "yes":
            return _reset_form()
        form = FORMS[self.form]
        request = form.request(tracker.slots)
        phone = str(tracker.get_slot("contact_phone"))
        try:
            # Verified means the server's record for this conversation, never a slot (finding 4).
            verified = verification_service().verified_phone(tracker.sender_id) == normalize_mobile(phone)
            view = ticket_service().open_ticket(
                category=request.category,
                type=request.type,
                phone=phone,
                channel=_channel(tracker),
                conversation_id=tracker.sender_id,
                description=request.description,
                details=request.details,
                district=request.district,
                verified=verified,
                request_key=request_key(tracker.sender_id, "ticket", tracker.events),
            )
        except InvalidTicketData as exc:
            dispatcher.utter_message(text=f"抱歉，工单没有提交成功：{exc.message_zh}。请重新发起。")
            return _reset_form()
        except Exception:
            log.exception("opening a %s ticket failed", form.category)
            note = f"{form.what}登记失败，请人工补录：{request.description}；{request.details}"
            dispatcher.utter_message(
                text="抱歉，工单系统暂时无法登记，您的信息没有丢失。我为您转接人工客服继续处理。",
                json_message=handoff_payload("fallback", note),
            )
            return _reset_form()
        dispatcher.utter_message(text=describe_ticket(view, form.what))
        events: list[EventType] = [*_reset_form(), SlotSet("last_ticket_id", view.id)]
        reason = escalation_reason(tracker, merged=view.merged_into_existing)
        if reason and form.category == "complaint":
            dispatcher.utter_message(
                text="您的投诉我们非常重视，正在为您转接人工客服…",
                json_message=handoff_payload("escalation", f"{reason}；工单{view.id}"),
            )
        return events


class ActionSubmitFault(_SubmitAction):
    form = "fault_form"

    def name(self) -> str:
        return "action_submit_fault"


class ActionSubmitComplaint(_SubmitAction):
    form = "complaint_form"

    def name(self) -> str:
        return "action_submit_complaint"


class ActionSubmitApplication(_SubmitAction):
    form = "application_form"

    def name(self) -> str:
        return "action_submit_application"
