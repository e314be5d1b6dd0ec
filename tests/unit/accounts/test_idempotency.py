"""A confirmed plan change or add-on is applied once per customer message, whatever replays it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select

from accounts.models import PlanChange
from accounts.proposals import ProposalStore
from accounts.service import AccountService, SamePlan
from accounts.settings import AccountsSettings

PHONE = "13800138000"


@pytest.fixture
def accounts(session_factory, catalogue, clock) -> AccountService:
    return AccountService(session_factory, catalogue, clock)


def _changes(session_factory) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(PlanChange)) or 0)


def test_a_replayed_plan_change_returns_the_first_result(accounts, session_factory) -> None:
    first = accounts.change_plan(PHONE, "畅享99", request_key="m-1")
    again = accounts.change_plan(PHONE, "畅享99", request_key="m-1")
    assert again == first and (first.immediate, first.effective_date) == (False, date(2026, 12, 1))
    assert _changes(session_factory) == 1
    assert [p.offer_name for p in accounts.summary(PHONE).pending] == ["5G畅享99元套餐"]


def test_a_replayed_immediate_plan_change_is_not_refused_as_the_same_plan(accounts) -> None:
    """Applied at once the first time, so the plan is already the new one: the replay still succeeds."""
    first = accounts.change_plan(PHONE, "4G轻享39元套餐", request_key="m-1")
    assert accounts.change_plan(PHONE, "4G轻享39元套餐", request_key="m-1") == first
    with pytest.raises(SamePlan):  # a new message asking for it again is told it is the plan already
        accounts.change_plan(PHONE, "4G轻享39元套餐", request_key="m-2")


def test_a_replayed_addon_order_adds_the_allowance_once(accounts, session_factory) -> None:
    before = accounts.summary(PHONE).data_quota_gb
    first = accounts.order_addon(PHONE, "流量加油包", request_key="m-1")
    assert accounts.order_addon(PHONE, "流量加油包", request_key="m-1") == first
    assert accounts.summary(PHONE).data_quota_gb == before + 10
    assert _changes(session_factory) == 1
    accounts.order_addon(PHONE, "流量加油包", request_key="m-2")  # another message: another pack
    assert accounts.summary(PHONE).data_quota_gb == before + 20


def test_concurrent_deliveries_of_one_order_apply_once(accounts, session_factory) -> None:
    before = accounts.summary(PHONE).data_quota_gb
    with ThreadPoolExecutor(max_workers=4) as pool:
        order = lambda _: accounts.order_addon(PHONE, "流量加油包", request_key="m-1")  # noqa: E731
        results = list(pool.map(order, range(4)))
    assert all(r == results[0] for r in results)
    assert accounts.summary(PHONE).data_quota_gb == before + 10 and _changes(session_factory) == 1


def test_a_proposal_taken_by_a_message_is_taken_again_only_by_its_replay(session_factory, clock) -> None:
    store = ProposalStore(session_factory, AccountsSettings(), clock)
    proposal = store.propose("conv-1", PHONE, "plan", "5g-99")
    assert store.take("conv-1", PHONE, "m-1") == proposal
    assert store.take("conv-1", PHONE, "m-1") == proposal  # the same message, replayed
    assert store.take("conv-1", PHONE, "m-2") is None  # any other message: used
    assert store.take("conv-1", "13900139000", "m-1") is None  # never for another phone
