"""The rules table gives each deadline the service guide sets, and ticket types their department."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tickets.calendar import WorkingCalendar
from tickets.rules import (
    CATEGORY_LABELS,
    DEADLINE_RULES,
    DEPARTMENT_LABELS,
    SEVERITY_LABELS,
    TICKET_TYPES,
    Category,
    Department,
    Rules,
    Severity,
    Unit,
    parse_category,
)

RULES = Rules()
MONDAY_9AM = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 Beijing
CAL = WorkingCalendar()


def _due(category: Category, severity: Severity) -> datetime:
    return CAL.deadline(MONDAY_9AM, RULES.deadline(category, severity).resolution)


def test_rules_table_covers_every_category_and_severity_with_a_source() -> None:
    keys = {(r.category, r.severity) for r in DEADLINE_RULES}
    assert keys == {(c, s) for c in Category for s in Severity}
    assert len(keys) == len(DEADLINE_RULES)
    assert all(r.source for r in DEADLINE_RULES)


@pytest.mark.parametrize("severity", [Severity.I, Severity.II])
def test_urgent_fault_is_due_within_24_hours(severity: Severity) -> None:
    assert _due(Category.FAULT, severity) == MONDAY_9AM + timedelta(hours=24)
    assert "3.4.2" in RULES.deadline(Category.FAULT, severity).source


@pytest.mark.parametrize("severity", [Severity.III, Severity.IV])
def test_general_fault_is_due_within_48_hours(severity: Severity) -> None:
    assert _due(Category.FAULT, severity) == MONDAY_9AM + timedelta(hours=48)


def test_complaint_gets_response_in_24_hours_and_resolution_in_48_hours() -> None:
    rule = RULES.deadline(Category.COMPLAINT, Severity.III)
    assert CAL.deadline(MONDAY_9AM, rule.first_response) == MONDAY_9AM + timedelta(hours=24)
    assert CAL.deadline(MONDAY_9AM, rule.resolution) == MONDAY_9AM + timedelta(hours=48)
    assert "5.2.1" in rule.source


def test_general_business_acceptance_24_hours_and_complex_48_hours() -> None:
    general = RULES.deadline(Category.BUSINESS, Severity.III).first_response
    complex_ = RULES.deadline(Category.BUSINESS, Severity.II).first_response
    assert (general.amount, general.unit) == (24, Unit.HOURS)
    assert (complex_.amount, complex_.unit) == (48, Unit.HOURS)
    assert "1.4" in RULES.deadline(Category.BUSINESS, Severity.II).source


def test_important_business_done_in_3_working_days_general_in_5() -> None:
    # Monday 09:00 + 3 working days = Thursday; + 5 = next Monday (weekend skipped).
    assert _due(Category.BUSINESS, Severity.II) == MONDAY_9AM + timedelta(days=3)
    assert _due(Category.BUSINESS, Severity.III) == MONDAY_9AM + timedelta(days=7)
    assert "5.1.3" in RULES.deadline(Category.BUSINESS, Severity.III).source


def test_general_inquiry_is_answered_within_24_hours() -> None:
    assert _due(Category.INQUIRY, Severity.III) == MONDAY_9AM + timedelta(hours=24)


@pytest.mark.parametrize(
    ("category", "words", "code", "department"),
    [
        (Category.FAULT, "宽带断网", "broadband_down", Department.FIELD_SERVICE),
        (Category.FAULT, "手机没信号了", "no_signal", Department.NETWORK_OPS),
        (Category.FAULT, "光猫红灯一直闪", "modem_light", Department.FIELD_SERVICE),
        (Category.COMPLAINT, "乱扣费", "billing_dispute", Department.BILLING),
        (Category.COMPLAINT, "营业员态度很差", "staff_attitude", Department.CUSTOMER_SERVICE),
        (Category.BUSINESS, "port_number", "port_out", Department.BUSINESS_HALL),
        (Category.BUSINESS, "装宽带", "broadband_install", Department.FIELD_SERVICE),
        (Category.FAULT, "冰箱坏了", "fault_other", Department.NETWORK_OPS),
    ],
)
def test_ticket_type_from_customer_words_sets_department(
    category: Category, words: str, code: str, department: Department
) -> None:
    row = RULES.resolve_type(category, words)
    assert (row.code, row.department) == (code, department)


def test_business_types_list_materials_to_bring() -> None:
    business = [t for t in TICKET_TYPES if t.category is Category.BUSINESS]
    assert business and all(t.materials for t in business)
    assert any("身份证件" in m for m in RULES.ticket_type("port_out").materials)


def test_labels_are_chinese_for_every_code() -> None:
    assert set(CATEGORY_LABELS) == set(Category)
    assert set(DEPARTMENT_LABELS) == set(Department)
    assert SEVERITY_LABELS[Severity.I] == "一级（重大）"
    assert parse_category("application") is Category.BUSINESS
    assert parse_category("投诉") is Category.COMPLAINT
    with pytest.raises(ValueError):
        parse_category("nonsense")
