"""Working-day arithmetic: weekends, public holidays, make-up working days, configurable holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tickets.calendar import WorkingCalendar
from tickets.settings import TicketSettings

BJ = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar(TicketSettings().holidays, TicketSettings().makeup_workdays)


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ)  # type: ignore[misc,arg-type]


def test_add_working_days_skips_the_weekend() -> None:
    assert CAL.add_working_days(bj(2026, 11, 27, 16, 0), 1) == bj(2026, 11, 30, 16, 0)  # Fri → Mon


def test_add_working_days_skips_national_day_holiday() -> None:
    # Wed 30 Sep + 1 working day: 1–7 Oct are holidays → Thu 8 Oct.
    assert CAL.add_working_days(bj(2026, 9, 30, 10, 0), 1) == bj(2026, 10, 8, 10, 0)


def test_add_working_days_counts_makeup_saturday() -> None:
    # Sat 10 Oct 2026 is a make-up working day (调休).
    assert CAL.add_working_days(bj(2026, 10, 9, 11, 0), 1) == bj(2026, 10, 10, 11, 0)


def test_request_on_a_weekend_counts_from_monday_morning() -> None:
    assert CAL.add_working_days(bj(2026, 11, 28, 22, 0), 1) == bj(2026, 12, 1, 9, 0)


def test_add_hours_runs_on_the_wall_clock_through_weekends() -> None:
    assert CAL.add_hours(bj(2026, 11, 27, 20, 0), 48) == bj(2026, 11, 29, 20, 0)


def test_holidays_are_configurable_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_TICKETS_HOLIDAYS", '["2026-12-01"]')
    settings = TicketSettings()
    assert settings.holidays == [date(2026, 12, 1)]
    cal = WorkingCalendar(settings.holidays, settings.makeup_workdays)
    assert cal.add_working_days(bj(2026, 11, 30, 10, 0), 1) == bj(2026, 12, 2, 10, 0)


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(datetime(2026, 11, 27, 16, 0), 1)
    assert CAL.add_hours(datetime(2026, 1, 1, tzinfo=UTC), 1).tzinfo is not None
