"""Working-day calendar for deadlines: Mon–Fri minus public holidays plus make-up working days.

Deadlines in working days keep the time of day: a request at Friday 16:00 with one working day
is due Monday 16:00; one made on a holiday counts from the next working day's start of business.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tickets.rules import Target, Unit

BUSINESS_START = time(9, 0)


class WorkingCalendar:
    def __init__(
        self,
        holidays: Iterable[date] = (),
        makeup_workdays: Iterable[date] = (),
        tz: str = "Asia/Shanghai",
    ) -> None:
        self.holidays = frozenset(holidays)
        self.makeup_workdays = frozenset(makeup_workdays)
        self.tz = ZoneInfo(tz)

    @classmethod
    def from_settings(cls) -> WorkingCalendar:
        from tickets.settings import get_ticket_settings

        s = get_ticket_settings()
        return cls(s.holidays, s.makeup_workdays, s.timezone)

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """``start`` plus ``days`` working days, at the same local time of day (aware result)."""
        _require_aware(start)
        local = start.astimezone(self.tz)
        if not self.is_working_day(local.date()):
            day = local.date()
            while not self.is_working_day(day):
                day += timedelta(days=1)
            local = datetime.combine(day, BUSINESS_START, tzinfo=self.tz)
        day = local.date()
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=self.tz).astimezone(UTC)

    @staticmethod
    def add_hours(start: datetime, hours: float) -> datetime:
        """Wall-clock hours (networks are repaired around the clock)."""
        _require_aware(start)
        return (start + timedelta(hours=hours)).astimezone(UTC)

    def deadline(self, start: datetime, target: Target, paused: timedelta = timedelta(0)) -> datetime:
        """When ``target`` is due for a clock started at ``start`` and paused for ``paused`` in total.

        Time spent waiting for the customer does not count, so the start moves by the pause.
        """
        effective = start + paused
        if target.unit is Unit.HOURS:
            return self.add_hours(effective, target.amount)
        return self.add_working_days(effective, int(target.amount))


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError("deadline arithmetic needs timezone-aware datetimes")
