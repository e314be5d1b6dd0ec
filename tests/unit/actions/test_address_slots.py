"""Addresses in the ticket forms: the district, and the street detail the technician needs."""

from __future__ import annotations

import pytest

from actions.ticket_forms import ValidateFaultForm
from tests.unit.actions.conftest import DOMAIN, make_tracker, said, user_event
from tickets.intake import extract_address, extract_district


@pytest.mark.parametrize(
    ("text", "district"),
    [
        ("我家在海淀区宽带断了", "海淀区"),
        ("地址是朝阳区建国路88号", "朝阳区"),
        ("北京市石景山区古城", "石景山区"),
        ("上海市徐汇区漕溪北路", "徐汇区"),
        ("住在浦东新区张江", "浦东新区"),
        ("小区里没信号", None),
        ("我在社区医院旁边", None),
    ],
)
def test_district_is_the_place_not_the_words_around_it(text: str, district: str | None) -> None:
    assert extract_district(text) == district


def test_address_keeps_the_street_and_drops_the_rest_of_the_sentence() -> None:
    text = "我家在海淀区中关村大街1号院3号楼502，宽带从昨天就断了"
    assert extract_address(text, "海淀区") == "海淀区中关村大街1号院3号楼502"
    assert extract_address("我在朝阳区，家里宽带断网两天了", "朝阳区") == "朝阳区"


def test_address_given_when_the_phone_was_asked_is_kept_and_the_phone_asked_again(dispatcher) -> None:
    answer = "海淀区中关村大街1号院3号楼502"
    tracker = make_tracker(
        {"requested_slot": "contact_phone"}, [user_event(answer, "inform")], active_loop="fault_form"
    )
    # The NLU took "502" out of the address as a phone number.
    result = ValidateFaultForm().validate_contact_phone("502", dispatcher, tracker, DOMAIN)
    assert result == {"contact_phone": None, "district": "海淀区", "address": answer}
    assert dispatcher.messages == [said("好的，地址已记下：海淀区中关村大街1号院3号楼502。")]


def test_district_entity_keeps_the_full_address_of_the_answer(dispatcher) -> None:
    """The NLU extracts 「海淀区」; the ticket still gets the street and the flat number."""
    answer = "地址是海淀区中关村大街1号院3号楼502"
    tracker = make_tracker(
        {"requested_slot": "district"}, [user_event(answer, "inform")], active_loop="fault_form"
    )
    result = ValidateFaultForm().validate_district("海淀区", dispatcher, tracker, DOMAIN)
    assert result == {"district": "海淀区", "address": "海淀区中关村大街1号院3号楼502"}


def test_district_in_the_first_message_takes_only_the_address_part(dispatcher) -> None:
    first = "我家在朝阳区建国路88号，宽带断网了"
    tracker = make_tracker(
        {"requested_slot": "contact_phone"}, [user_event(first, "report_fault")], active_loop="fault_form"
    )
    result = ValidateFaultForm().validate_district("朝阳区", dispatcher, tracker, DOMAIN)
    assert result == {"district": "朝阳区", "address": "朝阳区建国路88号"}


def test_address_correction_at_confirmation_replaces_the_whole_address(dispatcher) -> None:
    correction = "地址改成朝阳区望京SOHO塔2"
    tracker = make_tracker(
        {"requested_slot": "form_confirmed", "district": "海淀区", "address": "海淀区中关村大街1号"},
        [user_event(correction, "inform")],
        active_loop="fault_form",
    )
    result = ValidateFaultForm().validate_district("朝阳区", dispatcher, tracker, DOMAIN)
    assert result == {"district": "朝阳区", "address": "朝阳区望京SOHO塔2"}


async def test_fault_named_in_the_first_message_is_not_asked_again(dispatcher) -> None:
    first = "我在朝阳区建国路88号，家里宽带断了两天了"
    tracker = make_tracker({}, [user_event(first, "report_fault")], active_loop="fault_form")
    assert await ValidateFaultForm().extract_fault_type(dispatcher, tracker, DOMAIN) == {
        "fault_type": "宽带断网"
    }
    vague = make_tracker({}, [user_event("我要报修", "report_fault")], active_loop="fault_form")
    assert await ValidateFaultForm().extract_fault_type(dispatcher, vague, DOMAIN) == {}


async def test_fault_reported_in_traditional_characters_is_not_asked_again(dispatcher) -> None:
    tracker = make_tracker(
        {}, [user_event("我家寬帶斷網了，從昨天晚上到現在", "report_fault")], active_loop="fault_form"
    )
    assert await ValidateFaultForm().extract_fault_type(dispatcher, tracker, DOMAIN) == {
        "fault_type": "宽带断网"
    }


async def test_fault_typed_with_a_pinyin_slip_is_not_asked_again(dispatcher) -> None:
    """宽代 is 宽带 typed with pinyin input: the form reads the mended text (kefu.typos)."""
    tracker = make_tracker({}, [user_event("我家宽代断网了两天了", "report_fault")], active_loop="fault_form")
    assert await ValidateFaultForm().extract_fault_type(dispatcher, tracker, DOMAIN) == {
        "fault_type": "宽带断网"
    }
