"""The chat's three ticket forms (fault, complaint, application): what each asks, the summary the customer
confirms, the ticket it opens, and the reply that says what happens next. Plain data and text; the Rasa
actions only read slots into it and send what it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kefu.privacy import mask_phone
from tickets.views import TicketView

CUSTOMER_TZ = ZoneInfo("Asia/Shanghai")  # customers read deadlines in Beijing time
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
# Every slot a ticket form fills (reset after submitting or cancelling).
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
CONFIRM_WORDS = ("确认", "确定", "确认提交", "提交", "没问题", "对", "是的", "好的", "可以", "没错")
Slots = Mapping[str, Any]


@dataclass(frozen=True)
class TicketRequest:
    """What ``TicketService.open_ticket`` needs from a form, besides who and where from."""

    category: str
    type: str
    description: str
    details: dict[str, Any]
    district: str | None


@dataclass(frozen=True)
class TicketForm:
    name: str  # the Rasa form
    title: str  # 「请确认您的…信息」
    what: str  # 「已为您登记…」
    category: str
    fields: tuple[str, ...]
    request: Callable[[Slots], TicketRequest]


def _text(slots: Slots, name: str) -> str:
    return str(slots.get(name))


def _fault(slots: Slots) -> TicketRequest:
    fault, since = _text(slots, "fault_type"), _text(slots, "fault_since")
    details = {
        "fault_type": fault,
        "since": since,
        "address": slots.get("address"),
        "preferred_time": slots.get("preferred_time"),
    }
    return TicketRequest("fault", fault, f"{fault}，{since}开始", details, slots.get("district"))


def _complaint(slots: Slots) -> TicketRequest:
    detail = _text(slots, "issue_detail")
    details = {"desired_remedy": _text(slots, "desired_remedy")}
    # the ticket rules map the customer's words (乱扣费, 态度…) to a complaint type
    return TicketRequest("complaint", detail, detail, details, slots.get("district"))


def _application(slots: Slots) -> TicketRequest:
    business = _text(slots, "business_type")
    details = {
        "business_type": business,
        "address": slots.get("address"),
        "preferred_time": slots.get("preferred_time"),
    }
    return TicketRequest("business", business, f"申请办理：{business}", details, slots.get("district"))


FORMS: dict[str, TicketForm] = {
    form.name: form
    for form in (
        TicketForm(
            "fault_form",
            "故障报修",
            "故障报修工单",
            "fault",
            ("contact_phone", "fault_type", "district", "fault_since", "preferred_time"),
            _fault,
        ),
        TicketForm(
            "complaint_form",
            "投诉",
            "投诉工单",
            "complaint",
            ("contact_phone", "issue_detail", "desired_remedy"),
            _complaint,
        ),
        TicketForm(
            "application_form",
            "业务办理申请",
            "业务办理申请",
            "business",
            ("business_type", "contact_phone", "district", "preferred_time"),
            _application,
        ),
    )
}


def local_time(value: datetime) -> str:
    """A deadline as customers read it: ``2026年11月29日 18:00``, Beijing time."""
    return value.astimezone(CUSTOMER_TZ).strftime("%Y年%m月%d日 %H:%M")


def is_confirmation(value: Any) -> bool:
    """「确认」, 「好的！」 or the affirm button: the customer accepts the summary."""
    return value == "yes" or str(value or "").strip(" 。！!") in CONFIRM_WORDS


def display_value(field: str, slots: Slots) -> str:
    """A field as the summary shows it: the full address, the phone masked."""
    if field == "district":
        return str(slots.get("address") or slots.get("district") or "")
    if field == "contact_phone":
        phone = str(slots.get("contact_phone") or "")
        return mask_phone(phone) if phone.isdigit() else phone
    return str(slots.get(field) or "")


def confirmation_text(form: TicketForm, slots: Slots) -> str:
    """The summary asked to confirm, correct or cancel."""
    lines = [f"请确认您的{form.title}信息："]
    lines += [f"· {FIELD_LABELS[f]}：{display_value(f, slots)}" for f in form.fields]
    lines.append("确认无误请回复“确认”；需要修改请直接说，如“电话改成13912345678”；不办了请回复“取消”。")
    return "\n".join(lines)


def describe_ticket(view: TicketView, what: str) -> str:
    """The confirmation customers get: number, department, deadline and what happens next."""
    text = (
        f"已为您登记{what}，工单号：{view.id}。\n"
        f"处理部门：{view.department_label}\n"
        f"预计处理时限：{local_time(view.due_at)}前（北京时间）\n"
        "接下来工作人员会通过您留的电话与您联系；您可以随时说“查工单”查看进度。"
    )
    if view.merged_into_existing:
        text = f"您反映的问题已有处理中的工单{view.id}，本次信息已补充到该工单，我们会加急处理。\n" + text
    if view.incident:  # its summary already says when the fix is expected
        outage = view.incident.summary
        text += f"\n另外提醒您：您所在区域目前有已知的网络故障正在抢修（{outage}），修复后将自动恢复。"
    return text
