"""Account requests after identity verification: queries, proposing plan changes, add-ons, porting and
cancelling (confirmed in ``actions.account_change``), and the customer's own tickets (progress, adding
information, withdrawing, rating)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from accounts.business import BUSINESS_REQUIREMENTS, describe_requirement
from accounts.replies import summary_text
from accounts.service import AccountError
from accounts.ticket_commands import TicketCommand, parse_rating, parse_ticket_command
from actions.common import (
    HUMAN_BUTTON,
    account_service,
    catalogue,
    local_time,
    proposal_store,
    ticket_service,
    verification_service,
)
from actions.dialogue_events import request_message
from kefu.privacy import mask_phone
from tariffs import format as fmt
from tickets import (
    OPEN_STATUSES,
    InvalidRating,
    InvalidTicketData,
    InvalidTransition,
    NotTicketOwner,
    TicketNotFound,
)

log = logging.getLogger(__name__)

CONFIRM_BUTTONS = [{"title": "确认办理", "payload": "/affirm"}, {"title": "取消", "payload": "/deny"}]
UNVERIFIED_TEXT = "身份验证未通过，暂时无法查询或办理账户业务。您可以稍后再试，或转人工客服。"


def _reset() -> list[EventType]:
    return [SlotSet("plan_name", None), SlotSet("ticket_id", None)]


class ActionAccountRequest(Action):  # type: ignore[misc]
    """Runs the request that started verification, for the verified phone only."""

    def name(self) -> str:
        return "action_account_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        # The server's verification record decides, never the verified_phone slot (forgeable).
        phone = verification_service().verified_phone(tracker.sender_id)
        if not phone:
            dispatcher.utter_message(text=UNVERIFIED_TEXT, buttons=[HUMAN_BUTTON])
            return [SlotSet("verify_phone", None), SlotSet("otp_code", None), *_reset()]
        request, text = request_message(tracker.events)
        handler = getattr(self, f"_{request}", self._query_account)
        command = parse_ticket_command(text)
        try:
            if command is not None:
                events: list[EventType] = self._ticket_command(dispatcher, phone, command)
            else:
                events = handler(dispatcher, tracker, phone)
                if request != "check_ticket":  # a resolved ticket is rated on the next verified visit
                    self._ask_rating(dispatcher, phone)
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
        self, dispatcher: CollectingDispatcher, phone: str, command: TicketCommand
    ) -> list[EventType]:
        service = ticket_service()
        ticket_id, rest = command.ticket_id, command.rest
        try:
            if command.command == "cancel":
                service.cancel_by_customer(ticket_id=ticket_id, phone=phone, reason=rest or "客户在线撤销")
                dispatcher.utter_message(text=f"工单{ticket_id}已为您撤销。")
            elif command.command == "add":
                if not rest:
                    dispatcher.utter_message(
                        text="请在工单号后面写上要补充的内容，例如“补充工单 TK20261128-0001 晚上8点后在家”。"
                    )
                    return []
                service.add_customer_info(ticket_id=ticket_id, phone=phone, text=rest)
                dispatcher.utter_message(text=f"已将您的补充信息添加到工单{ticket_id}，处理人员会看到。")
            else:
                rating = parse_rating(rest)
                if rating is None:
                    dispatcher.utter_message(text="请给出1到5的分数，例如“评价 TK20261128-0001 5分 很满意”。")
                    return []
                service.rate(ticket_id=ticket_id, phone=phone, score=rating.score, comment=rating.comment)
                dispatcher.utter_message(text="感谢您的评价，我们会持续改进服务！")
        except (TicketNotFound, NotTicketOwner):
            dispatcher.utter_message(text=f"在您的名下没有找到工单{ticket_id}，请核对工单号。")
        except (InvalidTransition, InvalidRating, InvalidTicketData) as exc:
            dispatcher.utter_message(text=f"操作没有成功：{exc.message_zh}。")
        except Exception:
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
        offer = offer or next(iter(cat.find_all(request_message(tracker.events)[1])), None)
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
        proposal = proposal_store().propose(tracker.sender_id, phone, kind, offer.id)
        return [SlotSet("pending_change", proposal.slot_value)]

    def _change_plan(self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str) -> list[EventType]:
        return self._offer_change(dispatcher, tracker, phone, "plan")

    def _order_addon(self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str) -> list[EventType]:
        return self._offer_change(dispatcher, tracker, phone, "addon")

    def _business(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str, request: str
    ) -> list[EventType]:
        req = BUSINESS_REQUIREMENTS[request]
        dispatcher.utter_message(
            text=f"{describe_requirement(req)}\n确认要为您登记{req.label}申请吗？", buttons=CONFIRM_BUTTONS
        )
        proposal = proposal_store().propose(tracker.sender_id, phone, "business", request)
        return [SlotSet("pending_change", proposal.slot_value)]

    def _cancel_service(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str
    ) -> list[EventType]:
        return self._business(dispatcher, tracker, phone, "cancel_service")

    def _port_number(self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str) -> list[EventType]:
        return self._business(dispatcher, tracker, phone, "port_number")
