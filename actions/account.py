"""Account requests after identity verification: queries, plan changes, add-ons, porting, cancelling,
and the customer's own tickets (progress, adding information, withdrawing, rating)."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from accounts.business import BUSINESS_REQUIREMENTS, describe_requirement
from accounts.service import AccountError, AccountSummary, NotAPlan, SamePlan, UnknownOffer
from actions.common import HUMAN_BUTTON, account_service, catalogue, local_time, ticket_service
from kefu.privacy import mask_phone
from tariffs import format as fmt
from tickets import OPEN_STATUSES
from tickets.forms import describe_ticket

log = logging.getLogger(__name__)

TICKET_ID_RE = re.compile(r"TK\d{8}-\d{3,6}", re.IGNORECASE)
CONFIRM_BUTTONS = [{"title": "确认办理", "payload": "/affirm"}, {"title": "取消", "payload": "/deny"}]


def summary_text(s: AccountSummary) -> str:
    lines = [
        f"{mask_phone(s.phone)}的账户信息：",
        f"· 当前套餐：{s.plan_name}（{fmt.money(s.monthly_fee)}元/月）",
        f"· 账户余额：{s.balance_yuan:.2f}元" + ("（已欠费，请及时充值）" if s.balance_yuan < 0 else ""),
        f"· 本月流量：已用{fmt.gb(s.data_used_gb)}，剩余{fmt.gb(s.data_left_gb)}",
        f"· 本月通话：已用{s.minutes_used}分钟，剩余{s.minutes_left}分钟",
    ]
    if s.contract_end:
        lines.append(f"· 合约到期：{s.contract_end:%Y年%m月%d日}")
    if s.status != "active":
        lines.append(
            "· 号码状态：停机（欠费停机，充值后自动恢复）"
            if s.status == "suspended"
            else f"· 号码状态：{s.status}"
        )
    lines += [f"· 待生效：{p.offer_name}，{p.effective_date:%Y年%m月%d日}起生效" for p in s.pending]
    return "\n".join(lines)


ACCOUNT_INTENTS = (
    "query_account",
    "check_ticket",
    "change_plan",
    "order_addon",
    "cancel_service",
    "port_number",
)


def request_message(tracker: Tracker) -> tuple[str, str]:
    """Intent and text of the message that started the latest identity verification.

    Taken from the event history rather than a slot, so that what the customer types into the
    verification form (a phone number, a code) can never change which request is served.
    """
    events = list(tracker.events)
    start = len(events)
    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        if e.get("event") == "active_loop" and e.get("name") == "verification_form":
            start = i
            break
    for e in reversed(events[:start]):
        if e.get("event") == "user":
            intent = str(((e.get("parse_data") or {}).get("intent") or {}).get("name") or "")
            return (intent if intent in ACCOUNT_INTENTS else "query_account"), str(e.get("text") or "")
    return "query_account", ""


def _reset() -> list[EventType]:
    return [SlotSet("plan_name", None), SlotSet("ticket_id", None)]


class ActionAccountRequest(Action):  # type: ignore[misc]
    """Runs the request that started verification, for the verified phone only."""

    def name(self) -> str:
        return "action_account_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        phone = tracker.get_slot("verified_phone")
        if not phone:
            dispatcher.utter_message(
                text="身份验证未通过，暂时无法查询或办理账户业务。您可以稍后再试，或转人工客服。",
                buttons=[HUMAN_BUTTON],
            )
            return [SlotSet("verify_phone", None), SlotSet("otp_code", None), *_reset()]
        request, text = request_message(tracker)
        handler = getattr(self, f"_{request}", self._query_account)
        match = TICKET_ID_RE.search(text)
        command = ticket_command(text) if match else None
        try:
            if match and command:
                events: list[EventType] = self._ticket_command(
                    dispatcher, str(phone), match.group(0).upper(), command, text
                )
            else:
                events = handler(dispatcher, tracker, str(phone))
                if request != "check_ticket":  # a resolved ticket is rated on the next verified visit
                    self._ask_rating(dispatcher, str(phone))
        except AccountError:
            log.exception("account request %s failed", request)
            dispatcher.utter_message(
                text="抱歉，没有找到您的账户信息，请转人工客服核实。", buttons=[HUMAN_BUTTON]
            )
            events = []
        return [*events, *_reset()]

    def _query_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str
    ) -> list[EventType]:
        dispatcher.utter_message(text=summary_text(account_service().summary(phone)))
        return []

    def _check_ticket(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str
    ) -> list[EventType]:
        service = ticket_service()
        tickets = list(service.list_for_customer(phone))
        if not tickets:
            dispatcher.utter_message(text=f"{mask_phone(phone)}名下暂无工单记录。")
        else:
            lines = [f"{mask_phone(phone)}名下的工单："]
            for view in tickets[:10]:
                label = getattr(view, "type_label", view.type)
                line = f"· {view.id}（{label}）：{view.status_label}，处理部门：{view.department_label}"
                if str(view.status) in OPEN_STATUSES:
                    line += f"，预计{local_time(view.due_at)}前处理完毕"
                lines.append(line)
            if any(str(v.status) in OPEN_STATUSES for v in tickets):
                lines.append(
                    "如需补充信息，请说“补充工单 工单号 补充内容”；如需撤销，请说“撤销工单 工单号”。"
                )
            dispatcher.utter_message(text="\n".join(lines))
        self._ask_rating(dispatcher, phone)
        return []

    def _ask_rating(self, dispatcher: CollectingDispatcher, phone: str) -> None:
        try:
            pending = ticket_service().pending_rating(phone)
        except Exception:
            log.exception("pending_rating failed")
            return
        views = pending if isinstance(pending, list | tuple) else [pending] if pending else []
        for view in views[:1]:
            dispatcher.utter_message(
                text=f"您的工单{view.id}已处理完毕，请为本次服务打分（1–5分），可回复“评价 {view.id} 5分 意见”。",  # noqa: E501
                json_message={"csat": {"ticket_id": view.id}},
            )

    def _ticket_command(
        self, dispatcher: CollectingDispatcher, phone: str, ticket_id: str, command: str, text: str
    ) -> list[EventType]:
        service = ticket_service()
        rest = TICKET_ID_RE.split(text, maxsplit=1)[-1].strip(" ：:，,。")
        try:
            if command == "cancel":
                service.cancel_by_customer(ticket_id=ticket_id, phone=phone, reason=rest or "客户在线撤销")
                dispatcher.utter_message(text=f"工单{ticket_id}已为您撤销。")
            elif command == "add":
                if not rest:
                    dispatcher.utter_message(
                        text="请在工单号后面写上要补充的内容，例如“补充工单 TK20261128-0001 晚上8点后在家”。"
                    )
                    return []
                service.add_customer_info(ticket_id=ticket_id, phone=phone, text=rest)
                dispatcher.utter_message(text=f"已将您的补充信息添加到工单{ticket_id}，处理人员会看到。")
            else:
                score_match = re.search(r"([1-5])\s*(?:分|星)?", rest)
                if not score_match:
                    dispatcher.utter_message(text="请给出1到5的分数，例如“评价 TK20261128-0001 5分 很满意”。")
                    return []
                comment = rest[score_match.end() :].strip(" ，,。") or None
                service.rate(
                    ticket_id=ticket_id, phone=phone, score=int(score_match.group(1)), comment=comment
                )
                dispatcher.utter_message(text="感谢您的评价，我们会持续改进服务！")
        except Exception as exc:
            name = type(exc).__name__
            if name in ("TicketNotFound", "NotTicketOwner"):
                dispatcher.utter_message(text=f"在您的名下没有找到工单{ticket_id}，请核对工单号。")
            elif name in ("InvalidTransition", "InvalidRating", "InvalidTicketData"):
                reason = getattr(exc, "message_zh", "当前状态不支持该操作")
                dispatcher.utter_message(text=f"操作没有成功：{reason}。")
            else:
                log.exception("ticket command failed")
                dispatcher.utter_message(
                    text="抱歉，操作暂时没有成功，请稍后再试或转人工客服。", buttons=[HUMAN_BUTTON]
                )
        return []

    def _offer_change(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str, kind: str
    ) -> list[EventType]:
        cat = catalogue()
        wanted = tracker.get_slot("plan_name")
        offer = cat.find(str(wanted)) if wanted else None
        offer = offer or next(iter(cat.find_all(request_message(tracker)[1])), None)
        summary = account_service().summary(phone)
        if offer is None or (offer.is_plan if kind == "addon" else not offer.is_plan):
            options = [o for o in cat.offers if (o.is_addon if kind == "addon" else o.is_plan)]
            listing = "\n".join(f"· {fmt.offer_line(o)}" for o in options[:10])
            what = "加装包" if kind == "addon" else "套餐"
            dispatcher.utter_message(
                text=f"您当前是{summary.plan_name}。请问您想办理哪个{what}？可选：\n{listing}"
            )
            return []
        if kind == "plan" and offer.name == summary.plan_name:
            dispatcher.utter_message(text=f"您当前已经是{offer.name}，无需变更。")
            return []
        when = "办理后立即生效" if offer.effective == "immediate" else "下个计费周期（次月1日）起生效"
        action = f"从{summary.plan_name}变更为" if kind == "plan" else "订购"
        dispatcher.utter_message(
            text=f"{fmt.offer_detail(offer)}\n您将{action}{offer.name}，{when}。确认办理吗？",
            buttons=CONFIRM_BUTTONS,
        )
        return [SlotSet("pending_change", f"{kind}:{offer.id}")]

    def _change_plan(self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str) -> list[EventType]:
        return self._offer_change(dispatcher, tracker, phone, "plan")

    def _order_addon(self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str) -> list[EventType]:
        return self._offer_change(dispatcher, tracker, phone, "addon")

    def _business(self, dispatcher: CollectingDispatcher, request: str) -> list[EventType]:
        req = BUSINESS_REQUIREMENTS[request]
        dispatcher.utter_message(
            text=f"{describe_requirement(req)}\n确认要为您登记{req.label}申请吗？", buttons=CONFIRM_BUTTONS
        )
        return [SlotSet("pending_change", f"business:{request}")]

    def _cancel_service(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str
    ) -> list[EventType]:
        return self._business(dispatcher, "cancel_service")

    def _port_number(self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str) -> list[EventType]:
        return self._business(dispatcher, "port_number")


def ticket_command(text: str) -> str | None:
    """What the customer wants done with a ticket they named: cancel, add (information) or rate."""
    if re.search(r"撤销|撤回|取消", text):
        return "cancel"
    if re.search(r"补充|追加|添加", text):
        return "add"
    if re.search(r"评价|评分|打分", text):
        return "rate"
    return None


class ActionConfirmAccountChange(Action):  # type: ignore[misc]
    """Applies (affirm) or drops (deny) the change the customer was just asked to confirm."""

    def name(self) -> str:
        return "action_confirm_account_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        pending = str(tracker.get_slot("pending_change") or "")
        phone = tracker.get_slot("verified_phone")
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        if not pending or not phone:
            dispatcher.utter_message(text="好的。还有其他可以帮您的吗？")
            return [SlotSet("pending_change", None)]
        if intent != "affirm":
            dispatcher.utter_message(text="好的，已取消本次办理，您的账户没有任何变化。")
            return [SlotSet("pending_change", None)]
        kind, _, target = pending.partition(":")
        try:
            if kind == "business":
                self._business_ticket(dispatcher, tracker, str(phone), target)
            else:
                service = account_service()
                result = (
                    service.change_plan(str(phone), target)
                    if kind == "plan"
                    else service.order_addon(str(phone), target)
                )
                when = (
                    "已立即生效"
                    if result.immediate
                    else f"将于{result.effective_date:%Y年%m月%d日}（下个计费周期）起生效"
                )
                dispatcher.utter_message(text=f"办理成功！{result.offer.name}{when}。")
        except SamePlan as exc:
            dispatcher.utter_message(text=f"您已经办理过{exc}，无需重复办理。")
        except (UnknownOffer, NotAPlan):
            dispatcher.utter_message(
                text="抱歉，该套餐暂不支持在线办理，请转人工客服。", buttons=[HUMAN_BUTTON]
            )
        except Exception:
            log.exception("confirming %s failed", pending)
            dispatcher.utter_message(
                text="抱歉，办理暂时没有成功，您的账户没有变化。请稍后再试或转人工客服。",
                buttons=[HUMAN_BUTTON],
            )
        return [SlotSet("pending_change", None)]

    @staticmethod
    def _business_ticket(
        dispatcher: CollectingDispatcher, tracker: Tracker, phone: str, request: str
    ) -> None:
        req = BUSINESS_REQUIREMENTS[request]
        view = ticket_service().open_ticket(
            category="business",
            type=req.ticket_type,
            phone=phone,
            channel=str(tracker.get_latest_input_channel() or "rest"),
            conversation_id=tracker.sender_id,
            description=f"客户申请{req.label}（已短信验证身份）",
            details={"materials": list(req.materials), "conditions": list(req.conditions)},
            district=None,
        )
        text = describe_ticket(view, f"{req.label}申请")
        materials = tuple(getattr(view, "materials", ()) or req.materials)
        dispatcher.utter_message(text=f"{text}\n请携带：{'；'.join(materials)}，到营业厅办理。")
