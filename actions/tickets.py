"""Fault, complaint and application forms: validation, confirmation, ticket submission."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from accounts.phone import normalize_mobile
from actions.common import local_time, ticket_service
from actions.handoff import escalation_reason, handoff_payload
from actions.slots import (
    address_answer,
    extract_address,
    extract_district,
    known_fault_type,
    normalize_fault_type,
    parse_correction,
)
from kefu.textnorm import normalize

log = logging.getLogger(__name__)

FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "fault_form": ("contact_phone", "fault_type", "district", "fault_since", "preferred_time"),
    "complaint_form": ("contact_phone", "issue_detail", "desired_remedy"),
    "application_form": ("business_type", "contact_phone", "district", "preferred_time"),
}
FIELD_LABELS = {
    "contact_phone": "联系电话",
    "fault_type": "故障类型",
    "district": "地址",
    "fault_since": "开始时间",
    "preferred_time": "预约时间",
    "issue_detail": "投诉内容",
    "desired_remedy": "您的诉求",
    "business_type": "办理业务",
}
CONFIRM_WORDS = ("确认", "确定", "确认提交", "提交", "没问题", "对", "是的", "好的", "可以", "没错")
FORM_TITLES = {"fault_form": "故障报修", "complaint_form": "投诉", "application_form": "业务办理申请"}
FORM_SLOTS = (
    "contact_phone",
    "district",
    "address",
    "preferred_time",
    "form_confirmed",
    "fault_type",
    "fault_since",
    "issue_detail",
    "desired_remedy",
    "business_type",
)


def _display(tracker: Tracker, field: str) -> str:
    if field == "district":
        return str(tracker.get_slot("address") or tracker.get_slot("district") or "")
    if field == "contact_phone":
        from kefu.privacy import mask_phone

        phone = str(tracker.get_slot("contact_phone") or "")
        return mask_phone(phone) if phone.isdigit() else phone
    return str(tracker.get_slot(field) or "")


def _latest_text(tracker: Tracker) -> str:
    """The customer's whole last message (slot values may be only a piece of it), normalised like the NLU
    reads it (寬帶斷網 -> 宽带断网, full-width digits, Weibo noise), so the keyword tables match."""
    return normalize(str((tracker.latest_message or {}).get("text") or ""))


def _last_valid_phone(tracker: Tracker) -> str | None:
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "contact_phone":
            phone = normalize_mobile(str(event.get("value") or ""))
            if phone is not None:
                return phone
    return None


class _TicketFormValidation(FormValidationAction, ABC):  # type: ignore[misc]
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
            return {"contact_phone": _last_valid_phone(tracker)}
        if phone is None:
            # The whole message, not the value: the NLU may have taken "502" out of it as a number.
            text = _latest_text(tracker) or str(value or "")
            district = extract_district(text) if "district" in FORM_FIELDS[self.form] else None
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
        latest = _latest_text(tracker)
        # The NLU hands over just the district entity (「海淀区」); the street is in the message.
        from_entity = len(text) <= len(district) and district in latest
        requested = tracker.get_slot("requested_slot")
        if not from_entity or requested == "district":
            # The whole answer to 「地址是？」 (or a correction's new value) is the address.
            address = address_answer(latest if from_entity else text)
        elif requested == "form_confirmed" and district in (
            correction := parse_correction(latest, FORM_FIELDS[self.form]).get("district", "")
        ):
            address = address_answer(correction)  # 「地址改成…」 at the confirmation step
        else:
            address = extract_address(latest, district)  # mentioned in passing: the street parts only
        previous = str(tracker.get_slot("address") or "")
        if address == district and previous.startswith(district):
            address = previous  # a later bare mention of the district keeps the detail given before
        return {"district": district, "address": address}

    def validate_preferred_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        return {"preferred_time": text if text else None}

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
        text = str(value or "").strip()
        return {"fault_since": text or None}

    def validate_issue_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < 4:
            dispatcher.utter_message(text="请再具体描述一下发生了什么，方便我们尽快核实处理。")
            return {"issue_detail": None}
        return {"issue_detail": text}

    def validate_desired_remedy(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        return {"desired_remedy": text or None}

    def validate_business_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        return {"business_type": text if len(text) >= 2 else None}

    async def validate_form_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value == "yes" or str(value or "").strip(" 。！!") in CONFIRM_WORDS:
            return {"form_confirmed": "yes"}
        corrections = parse_correction(str(value or ""), FORM_FIELDS[self.form])
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
        label = known_fault_type(_latest_text(tracker))
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
        form = tracker.active_loop.get("name") or "fault_form"
        lines = [f"请确认您的{FORM_TITLES.get(form, '')}信息："]
        lines += [f"· {FIELD_LABELS[f]}：{_display(tracker, f)}" for f in FORM_FIELDS.get(form, ())]
        lines.append("确认无误请回复“确认”；需要修改请直接说，如“电话改成13912345678”；不办了请回复“取消”。")
        dispatcher.utter_message(
            text="\n".join(lines),
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


def _reset_form() -> list[EventType]:
    return [SlotSet(s, None) for s in FORM_SLOTS if s != "contact_phone"]


def _channel(tracker: Tracker) -> str:
    return str(tracker.get_latest_input_channel() or "rest")


def describe_ticket(view: Any, what: str) -> str:
    """The confirmation customers get: number, department, deadline and what happens next."""
    text = (
        f"已为您登记{what}，工单号：{view.id}。\n"
        f"处理部门：{view.department_label}\n"
        f"预计处理时限：{local_time(view.due_at)}前（北京时间）\n"
        "接下来工作人员会通过您留的电话与您联系；您可以随时说“查工单”查看进度。"
    )
    if getattr(view, "merged_into_existing", False):
        text = f"您反映的问题已有处理中的工单{view.id}，本次信息已补充到该工单，我们会加急处理。\n" + text
    incident = getattr(view, "incident", None)
    if incident:
        text += f"\n另外提醒您：您所在区域目前有已知的网络故障正在抢修（{_incident_text(incident)}），修复后将自动恢复。"  # noqa: E501
    return text


def _incident_text(incident: Any) -> str:
    """The outage sentence from the tickets service, with the expected fix time."""
    text = str(getattr(incident, "summary", "") or getattr(incident, "title", "") or "区域网络故障")
    fix = getattr(incident, "expected_fix_at", None)
    if isinstance(fix, datetime):
        text += f"，预计{local_time(fix)}前恢复"
    return text


class _SubmitAction(Action, ABC):  # type: ignore[misc]
    category = ""
    what = ""

    @abstractmethod
    def name(self) -> str: ...

    def ticket_fields(self, tracker: Tracker) -> dict[str, Any]:
        raise NotImplementedError

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("form_confirmed") != "yes":
            return _reset_form()
        fields = self.ticket_fields(tracker)
        try:
            view = ticket_service().open_ticket(
                category=self.category,
                phone=str(tracker.get_slot("contact_phone")),
                channel=_channel(tracker),
                conversation_id=tracker.sender_id,
                **fields,
            )
        except Exception as exc:
            if type(exc).__name__ == "InvalidTicketData":
                dispatcher.utter_message(
                    text=f"抱歉，工单没有提交成功：{getattr(exc, 'message_zh', exc)}。请重新发起。"
                )
                return _reset_form()
            log.exception("opening a %s ticket failed", self.category)
            dispatcher.utter_message(
                text="抱歉，工单系统暂时无法登记，您的信息没有丢失。我为您转接人工客服继续处理。",
                json_message=handoff_payload("fallback", f"{self.what}登记失败，请人工补录：{fields}"),
            )
            return _reset_form()
        dispatcher.utter_message(text=describe_ticket(view, self.what))
        events: list[EventType] = [*_reset_form(), SlotSet("last_ticket_id", view.id)]
        reason = escalation_reason(tracker, merged=bool(getattr(view, "merged_into_existing", False)))
        if reason and self.category == "complaint":
            dispatcher.utter_message(
                text="您的投诉我们非常重视，正在为您转接人工客服…",
                json_message=handoff_payload("escalation", f"{reason}；工单{view.id}"),
            )
        return events


class ActionSubmitFault(_SubmitAction):
    category = "fault"
    what = "故障报修工单"

    def name(self) -> str:
        return "action_submit_fault"

    def ticket_fields(self, tracker: Tracker) -> dict[str, Any]:
        fault = str(tracker.get_slot("fault_type"))
        since = str(tracker.get_slot("fault_since"))
        return {
            "type": fault,
            "description": f"{fault}，{since}开始",
            "details": {
                "fault_type": fault,
                "since": since,
                "address": tracker.get_slot("address"),
                "preferred_time": tracker.get_slot("preferred_time"),
            },
            "district": tracker.get_slot("district"),
        }


class ActionSubmitComplaint(_SubmitAction):
    category = "complaint"
    what = "投诉工单"

    def name(self) -> str:
        return "action_submit_complaint"

    def ticket_fields(self, tracker: Tracker) -> dict[str, Any]:
        detail = str(tracker.get_slot("issue_detail"))
        remedy = str(tracker.get_slot("desired_remedy"))
        return {
            "type": detail,  # the tickets rules map the customer's words (乱扣费, 态度…) to a type
            "description": detail,
            "details": {"desired_remedy": remedy},
            "district": tracker.get_slot("district"),
        }


class ActionSubmitApplication(_SubmitAction):
    category = "business"
    what = "业务办理申请"

    def name(self) -> str:
        return "action_submit_application"

    def ticket_fields(self, tracker: Tracker) -> dict[str, Any]:
        business = str(tracker.get_slot("business_type"))
        return {
            "type": business,
            "description": f"申请办理：{business}",
            "details": {
                "business_type": business,
                "address": tracker.get_slot("address"),
                "preferred_time": tracker.get_slot("preferred_time"),
            },
            "district": tracker.get_slot("district"),
        }
