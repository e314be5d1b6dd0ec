"""Fault, complaint and application forms: validate the slots, show the summary, cancel.

The forms themselves (fields, texts, the ticket each opens) are ``tickets.forms``; the parsing of the
customer's words is ``tickets.intake``; the submit actions that open the ticket are ``actions.tickets``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from accounts.phone import normalize_mobile
from actions.customer_text import latest_text
from actions.dialogue_events import last_valid_phone
from actions.faq import RuleQuestionFirst
from tickets.forms import FIELD_LABELS, FORM_SLOTS, FORMS, confirmation_text, is_confirmation
from tickets.intake import (
    address_answer,
    address_for,
    extract_district,
    free_text_answer,
    known_fault_type,
    normalize_fault_type,
    parse_correction,
)


class _TicketFormValidation(RuleQuestionFirst, ABC):
    """Checks shared by the three ticket forms; each form lists its own fields."""

    form = ""

    @abstractmethod
    def name(self) -> str: ...

    def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        phone = normalize_mobile(str(value or ""))
        if phone is None and tracker.get_slot("requested_slot") != "contact_phone":
            # A number inside another answer (the 1号 of an address) was taken for a phone: keep the
            # number the customer gave when asked, and do not ask again.
            return {"contact_phone": last_valid_phone(tracker.events)}
        if phone is None:
            # The whole message, not the value: the NLU may have taken "502" out of it as a number.
            text = latest_text(tracker) or str(value or "")
            district = extract_district(text) if "district" in FORMS[self.form].fields else None
            if district is not None:
                # The customer answered with the address first: keep it, then ask for the phone.
                address = address_answer(text)
                dispatcher.utter_message(text=f"好的，地址已记下：{address}。")
                return {"contact_phone": None, "district": district, "address": address}
            dispatcher.utter_message(
                text="这个号码好像不对，请输入11位中国大陆手机号（如13800138000），方便工作人员联系您。"
            )
            return {"contact_phone": None}
        return {"contact_phone": phone}

    def validate_district(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(value or "")
        district = extract_district(text)
        if district is None:
            dispatcher.utter_message(text="请告诉我具体在哪个区（如：海淀区），以及详细地址。")
            return {"district": None}
        address = address_for(
            district,
            value=text,
            message=latest_text(tracker),
            asked=str(tracker.get_slot("requested_slot") or ""),
            previous=str(tracker.get_slot("address") or ""),
            fields=FORMS[self.form].fields,
        )
        return {"district": district, "address": address}

    def validate_preferred_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"preferred_time": free_text_answer(value)}

    def validate_fault_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        fault = normalize_fault_type(str(value or ""))
        if fault is None:
            dispatcher.utter_message(text="请简单说一下是什么故障，例如：宽带断网、网速慢、手机没信号。")
        return {"fault_type": fault}

    def validate_fault_since(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"fault_since": free_text_answer(value)}

    def validate_issue_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        detail = free_text_answer(value, shortest=4)
        if detail is None:
            dispatcher.utter_message(text="请再具体描述一下发生了什么，方便我们尽快核实处理。")
        return {"issue_detail": detail}

    def validate_desired_remedy(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"desired_remedy": free_text_answer(value)}

    def validate_business_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"business_type": free_text_answer(value, shortest=2)}

    async def validate_form_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if is_confirmation(value):
            return {"form_confirmed": "yes"}
        corrections = parse_correction(str(value or ""), FORMS[self.form].fields)
        if not corrections:
            dispatcher.utter_message(
                text="没太明白您要修改哪一项。请这样说：“电话改成13912345678”或“地址改成朝阳区建国路88号”。"
            )
            return {"form_confirmed": None}
        updates: dict[str, Any] = {"form_confirmed": None}
        for field, raw in corrections.items():
            validator = getattr(self, f"validate_{field}")
            result = validator(raw, dispatcher, tracker, domain)
            if all(v is not None for v in result.values()):
                updates.update(result)
        if len(updates) > 1:
            changed = "、".join(FIELD_LABELS[f] for f in corrections if f in updates)
            dispatcher.utter_message(text=f"已为您更新{changed}。")
        return updates


class ValidateFaultForm(_TicketFormValidation):
    form = "fault_form"

    def name(self) -> str:
        return "validate_fault_form"

    async def extract_fault_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """「家里宽带断了两天了」 already says what is broken: do not ask 「是什么故障？」 again."""
        if tracker.get_slot("fault_type") or tracker.get_slot("requested_slot") == "fault_type":
            return {}
        label = known_fault_type(latest_text(tracker))
        return {"fault_type": label} if label else {}


class ValidateComplaintForm(_TicketFormValidation):
    form = "complaint_form"

    def name(self) -> str:
        return "validate_complaint_form"


class ValidateApplicationForm(_TicketFormValidation):
    form = "application_form"

    def name(self) -> str:
        return "validate_application_form"


class ActionAskFormConfirmed(Action):  # type: ignore[misc]
    """Shows what will be submitted and asks to confirm, correct or cancel."""

    def name(self) -> str:
        return "action_ask_form_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        form = FORMS.get(tracker.active_loop.get("name") or "", FORMS["fault_form"])
        dispatcher.utter_message(
            text=confirmation_text(form, tracker.slots),
            buttons=[{"title": "确认提交", "payload": "/affirm"}, {"title": "取消", "payload": "/deny"}],
        )
        return []


class ActionFormCancelled(Action):  # type: ignore[misc]
    """Forgets what the cancelled form collected."""

    def name(self) -> str:
        return "action_form_cancelled"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text="好的，已为您取消，本次填写的信息不会提交。还有其他可以帮您的吗？")
        slots = [*FORM_SLOTS, "verify_phone", "otp_code", "account_request", "requested_slot"]
        if tracker.get_slot("verified_phone"):
            slots = [s for s in slots if s not in ("verify_phone", "otp_code")]
        return [SlotSet(s, None) for s in slots]
