"""Outside working hours a customer in the queue may leave a message; it becomes a ticket.

The taker gathers what the customer wrote since joining the queue, needs an 11-digit phone
(from the messages or the bot's verified/contact phone), opens an inquiry ticket, tells the
customer its number and hands the conversation back to the bot.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio

from accounts.phone import normalize_mobile, remove_mobiles
from gateway.agents.assist import phone_from_slots
from gateway.agents.handoffs import HandoffLog
from gateway.agents.policy import WorkingHours
from gateway.conversations import ConversationInfo, ConversationStore
from gateway.payload_labels import is_payload
from kefu.privacy import mask_sensitive

if TYPE_CHECKING:
    from tickets import TicketService

log = logging.getLogger(__name__)
TICKET_TYPE = "非工作时间留言"
ASK_PHONE = "请在留言中附上您的11位手机号码，方便客服在工作时间联系您。"
ASK_PROBLEM = "已记下您的联系电话，请再简单描述一下您要咨询或反映的问题。"


def find_phone(texts: list[str]) -> str | None:
    """The newest mobile number the customer typed."""
    for text in reversed(texts):
        phone = normalize_mobile(text)
        if phone:
            return phone
    return None


def problem_text(texts: list[str]) -> str:
    """The customer's words without button presses and without the bare phone number."""
    parts = [remove_mobiles(t).strip(" ，,。.；;") for t in texts if not is_payload(t)]
    return "\n".join(p for p in parts if len(p) >= 2)


class LeaveMessage:
    def __init__(
        self,
        store: ConversationStore,
        handoffs: HandoffLog,
        tickets: Callable[[], TicketService],
        slots: Callable[[str], Awaitable[dict[str, Any]]],
        hours: WorkingHours,
        release: Callable[[str], Awaitable[None]],
    ) -> None:
        self.store = store
        self.handoffs = handoffs
        self.tickets = tickets
        self.slots = slots
        self.hours = hours
        self.release = release

    async def __call__(self, conv: ConversationInfo, text: str) -> str | None:
        handoff = await anyio.to_thread.run_sync(self.handoffs.current, conv.id)
        if handoff is None:
            return None
        since = handoff.requested_at
        messages = await anyio.to_thread.run_sync(self.store.messages_after, conv.id, 0)
        texts = [
            m.text for m in messages if m.sender == "customer" and m.created_at and m.created_at >= since
        ] or [text]
        phone = find_phone(texts) or await self._slot_phone(conv.id)
        if phone is None:
            return ASK_PHONE
        description = problem_text(texts)
        if not description:
            return ASK_PROBLEM
        service = self.tickets()
        try:
            view = await anyio.to_thread.run_sync(
                lambda: service.open_ticket(
                    category="inquiry",
                    type=TICKET_TYPE,
                    phone=phone,
                    channel=conv.channel,
                    conversation_id=conv.id,
                    description=mask_sensitive(description)[:2000],
                    details={"source": "after_hours_message", "handoff_reason": handoff.reason},
                )
            )
        except Exception as exc:  # the message stays in the conversation for the morning shift
            log.error("after-hours ticket for %s failed: %s", conv.id[:8], exc)
            return None
        await anyio.to_thread.run_sync(self.handoffs.set_ticket, handoff.id, view.id)
        await self.release(conv.id)
        return (
            f"已为您登记留言工单 {view.id}，客服将在工作时间（{self.hours.label}）尽快与您联系"
            f"（联系电话 {view.customer_masked}）。如还有其他问题，智能助手可以继续为您解答。"
        )

    async def _slot_phone(self, conversation_id: str) -> str | None:
        try:
            slots = await self.slots(conversation_id)
        except Exception:  # Rasa down: ask the customer instead
            return None
        return phone_from_slots(slots)[0]
