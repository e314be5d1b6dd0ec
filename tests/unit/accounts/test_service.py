"""Account queries and plan changes, applied next cycle or immediately per the catalogue."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.phone import normalize_contact_number, normalize_mobile
from accounts.seed import DEMO_ACCOUNTS, seed_demo_accounts
from accounts.service import AccountNotFound, AccountService, NotAPlan, SamePlan, UnknownOffer


@pytest.fixture
def accounts(session_factory, catalogue, clock) -> AccountService:
    return AccountService(session_factory, catalogue, clock)


def test_summary_shows_plan_balance_and_usage(accounts) -> None:
    s = accounts.summary("13800138000")
    assert (s.plan_name, s.balance_yuan, s.data_left_gb, s.minutes_left) == ("5G畅享129元套餐", 86.5, 60, 500)


def test_summary_unknown_phone_raises(accounts) -> None:
    with pytest.raises(AccountNotFound):
        accounts.summary("13900000000")


def test_change_plan_next_cycle_is_pending_until_the_first_of_next_month(accounts, clock) -> None:
    result = accounts.change_plan("13800138000", "畅享99")
    assert (result.immediate, result.effective_date) == (False, date(2026, 12, 1))
    s = accounts.summary("13800138000")
    assert s.plan_name == "5G畅享129元套餐" and s.pending[0].offer_name == "5G畅享99元套餐"
    clock.advance(days=3)
    s = accounts.summary("13800138000")
    assert s.plan_name == "5G畅享99元套餐" and s.pending == () and s.data_quota_gb == 60


def test_change_plan_immediate_offer_applies_now(accounts) -> None:
    result = accounts.change_plan("13800138000", "4G轻享39元套餐")
    assert result.immediate
    assert accounts.summary("13800138000").plan_name == "4G轻享39元套餐"


def test_change_plan_rejects_same_unknown_and_addon(accounts) -> None:
    with pytest.raises(SamePlan):
        accounts.change_plan("13800138000", "5G畅享129元套餐")
    with pytest.raises(UnknownOffer):
        accounts.change_plan("13800138000", "火星套餐")
    with pytest.raises(NotAPlan):
        accounts.change_plan("13800138000", "10GB流量加油包")


def test_order_addon_immediate_adds_data_now(accounts) -> None:
    accounts.order_addon("13800138000", "流量加油包")
    assert accounts.summary("13800138000").data_quota_gb == 90


def test_seed_demo_accounts_is_idempotent(database_url) -> None:
    assert seed_demo_accounts(database_url) == len(DEMO_ACCOUNTS)
    assert seed_demo_accounts(database_url) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的号码是138 0013 8000", "13800138000"),
        ("+8613900139000", "13900139000"),
        ("12345678901", None),
        ("１３８００１３８０００", "13800138000"),
    ],
)
def test_normalize_mobile_accepts_mainland_numbers_only(text, expected) -> None:
    assert normalize_mobile(text) == expected


def test_normalize_contact_number_accepts_landline() -> None:
    assert normalize_contact_number("010-62345678") == "010-62345678"
