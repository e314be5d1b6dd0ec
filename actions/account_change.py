"""Confirming (or declining) the change the bot proposed after identity verification: a plan change,
an add-on, or a porting/cancelling request ticket. Applied exactly once per confirming message: the
proposal is taken by that message's key (``actions.request_keys``) and the services return the first
result when the message is replayed."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from accounts.business import BUSINESS_REQUIREMENTS
from accounts.service import NotAPlan, SamePlan, UnknownOffer
from actions.common import HUMAN_BUTTON, account_service, proposal_store, ticket_service, verification_service
from actions.request_keys import request_key
from tickets.forms import describe_ticket

log = logging.getLogger(__name__)


class ActionConfirmAccountChange(Action):  # type: ignore[misc]
    """Applies (affirm) or drops (deny) the change the customer was just asked to confirm."""

    def name(self) -> str:
        return "action_confirm_account_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        # Only what the bot proposed in this conversation, to the phone it verified, is applied:
        # the pending_change and verified_phone slots are ignored (they can be forged).
        phone = verification_service().verified_phone(tracker.sender_id)
        key = request_key(tracker.sender_id, "account_change", tracker.events)
        proposal = proposal_store().take(tracker.sender_id, phone, key) if phone else None
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        if proposal is None:
            proposal_store().drop(tracker.sender_id)
            dispatcher.utter_message(text="好的。还有其他可以帮您的吗？")
            return [SlotSet("pending_change", None)]
        if intent != "affirm":
            dispatcher.utter_message(text="好的，已取消本次办理，您的账户没有任何变化。")
            return [SlotSet("pending_change", None)]
        pending = proposal.slot_value
        try:
            if proposal.kind == "business":
                self._business_ticket(dispatcher, tracker, proposal.phone, proposal.target, key)
            else:
                service = account_service()
                result = (
                    service.change_plan(proposal.phone, proposal.target, request_key=key)
                    if proposal.kind == "plan"
                    else service.order_addon(proposal.phone, proposal.target, request_key=key)
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
        dispatcher: CollectingDispatcher, tracker: Tracker, phone: str, request: str, key: str | None
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
            request_key=key,
        )
        text = describe_ticket(view, f"{req.label}申请")
        materials = tuple(getattr(view, "materials", ()) or req.materials)
        dispatcher.utter_message(text=f"{text}\n请携带：{'；'.join(materials)}，到营业厅办理。")
