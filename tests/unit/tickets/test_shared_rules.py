"""Each rule has one table: the bot, the gateway and the tickets agree where copies used to drift."""

from __future__ import annotations

import pytest

from accounts.business import BUSINESS_REQUIREMENTS, describe_requirement
from actions.handoff import escalation_reason
from gateway.agents.leave_message import find_phone, problem_text
from gateway.agents.policy import REASONS, escalation_note
from tests.unit.actions.conftest import make_tracker, user_event
from tickets.intake import known_fault_type, normalize_fault_type
from tickets.rules import DEFAULT_RULES, Category


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("我的号码是13315012345，宽带又断了", None),
        ("再不处理我就打12315", "客户提及315/12315投诉"),
        ("我要去315曝光你们", "客户提及315/12315投诉"),
        ("我去工信部投诉", "客户提及向工信部/通信管理局申诉"),
        ("我已经找了律师", "客户提及律师/法律途径"),
    ],
)
def test_bot_and_gateway_see_the_same_escalation_risk(text: str, note: str | None) -> None:
    tracker = make_tracker(events=[user_event(text, "complain")])
    assert escalation_note(text) == note
    assert escalation_reason(tracker) == note


def test_a_repeated_complaint_escalates_even_without_risk_words() -> None:
    tracker = make_tracker(events=[user_event("还是乱扣费", "complain")])
    assert escalation_reason(tracker, merged=True) == "客户就同一未结工单重复来电"


def test_handoff_reasons_name_their_guide_section() -> None:
    assert all(reason.source for reason in REASONS.values())


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("光猫红灯了", "modem_light"),
        ("家里宽带断了两天了", "broadband_down"),
        ("手机卡没信号", "no_signal"),
        ("电视没信号", "tv_fault"),
        ("网速很慢", "slow_network"),
        ("电话打不通", "call_failure"),
    ],
)
def test_the_fault_form_and_the_ticket_give_the_same_type(text: str, code: str) -> None:
    label = known_fault_type(text)
    assert label is not None
    assert DEFAULT_RULES.resolve_type(Category.FAULT, label).code == code
    assert DEFAULT_RULES.resolve_type(Category.FAULT, text).code == code


def test_unknown_fault_words_are_kept_as_the_customers_own() -> None:
    assert known_fault_type("冰箱坏了") is None
    assert normalize_fault_type("冰箱坏了") == "冰箱坏了"
    assert DEFAULT_RULES.resolve_type(Category.FAULT, "冰箱坏了").code == "fault_other"


@pytest.mark.parametrize("request_name", sorted(BUSINESS_REQUIREMENTS))
def test_materials_told_before_confirming_are_the_tickets_materials(request_name: str) -> None:
    req = BUSINESS_REQUIREMENTS[request_name]
    ticket_materials = DEFAULT_RULES.resolve_type(Category.BUSINESS, req.ticket_type).materials
    assert req.materials == ticket_materials
    assert describe_requirement(req).startswith(f"办理{req.label}需要：{'；'.join(ticket_materials)}。")


def test_port_out_materials_say_how_to_get_the_authorisation_code() -> None:
    materials = BUSINESS_REQUIREMENTS["port_number"].materials
    assert materials == (
        "机主本人有效身份证件原件",
        "携转授权码（编辑短信SQXZ#姓名#证件号码发送至10086获取）",
    )


@pytest.mark.parametrize(
    ("texts", "phone", "problem"),
    [
        (["宽带坏了，明早联系我 +86 138-0013-8000"], "13800138000", "宽带坏了，明早联系我"),
        (["/request_human", "我的电话１３８００１３８０００"], "13800138000", "我的电话"),
        (["网速慢", "13900139000"], "13900139000", "网速慢"),
    ],
)
def test_after_hours_message_reads_the_phone_like_the_forms_do(
    texts: list[str], phone: str, problem: str
) -> None:
    assert find_phone(texts) == phone
    assert problem_text(texts) == problem
