"""A replayed customer message (the gateway's backlog, a Rasa that died mid-turn) gets the first answer
again, with the same events, and nothing is done twice: one ticket, one plan change."""

from __future__ import annotations

from datetime import UTC, datetime

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

import actions.common as common
from accounts.service import next_cycle_start
from actions.account import ActionAccountRequest
from actions.account_change import ActionConfirmAccountChange
from actions.tickets import ActionSubmitFault
from tests.unit.actions.conftest import DOMAIN, FORM_SLOT_NAMES, make_tracker, said, user_event, verify
from tests.unit.actions.test_ticket_actions import FAULT, registered

RESET = [SlotSet(s, None) for s in FORM_SLOT_NAMES if s != "contact_phone"]
STARTED = {"event": "session_started", "timestamp": 1764630000.0}
FORM_TURNS = [STARTED, user_event("宽带断了", "report_fault"), user_event("13800138000", "inform")]


async def test_a_replayed_confirmation_gives_the_same_ticket_and_opens_no_second(services) -> None:
    events = [*FORM_TURNS, user_event("确认", "affirm")]
    first, again = CollectingDispatcher(), CollectingDispatcher()
    first_events = await ActionSubmitFault().run(first, make_tracker(FAULT, events), DOMAIN)
    replay_events = await ActionSubmitFault().run(again, make_tracker(FAULT, events), DOMAIN)
    ticket_id = str(next(e["value"] for e in first_events if e.get("name") == "last_ticket_id"))
    assert first_events == replay_events == [*RESET, SlotSet("last_ticket_id", ticket_id)]
    assert first.messages == again.messages == [said(registered("故障报修工单", ticket_id, "装维服务部"))]
    assert [t.id for t in common.ticket_service().list_for_customer("13800138000")] == [ticket_id]


async def test_the_next_confirmation_is_a_new_message_and_opens_its_own_ticket(services) -> None:
    one = await ActionSubmitFault().run(
        CollectingDispatcher(), make_tracker(FAULT, [*FORM_TURNS, user_event("确认", "affirm")]), DOMAIN
    )
    later = [*FORM_TURNS, user_event("确认", "affirm"), user_event("又断了", "report_fault")]
    two = await ActionSubmitFault().run(
        CollectingDispatcher(), make_tracker(FAULT, [*later, user_event("确认", "affirm")]), DOMAIN
    )
    assert one[-1] != two[-1]  # unverified reporter: a second report is a second ticket
    assert len(common.ticket_service().list_for_customer("13800138000")) == 2


async def test_a_replayed_plan_confirmation_applies_the_change_once(services) -> None:
    verify(services, "13800138000")
    verified = {"verified_phone": "13800138000"}
    asked = [
        user_event("我想换成畅享99", "change_plan"),
        {"event": "active_loop", "name": "verification_form"},
    ]
    await ActionAccountRequest().run(
        CollectingDispatcher(), make_tracker({**verified, "plan_name": "畅享99"}, asked), DOMAIN
    )
    confirm = make_tracker(
        {**verified, "pending_change": "plan:5g-99"}, [STARTED, *asked, user_event("确认", "affirm")]
    )
    first, again = CollectingDispatcher(), CollectingDispatcher()
    assert await ActionConfirmAccountChange().run(first, confirm, DOMAIN) == [SlotSet("pending_change", None)]
    assert await ActionConfirmAccountChange().run(again, confirm, DOMAIN) == [SlotSet("pending_change", None)]
    when = next_cycle_start(datetime.now(UTC).date())
    done = f"办理成功！5G畅享99元套餐将于{when:%Y年%m月%d日}（下个计费周期）起生效。"
    assert first.messages == again.messages == [said(done)]
    pending = common.account_service().summary("13800138000").pending
    assert [p.offer_name for p in pending] == ["5G畅享99元套餐"]
