"""What a report is asked for: a period, an optional channel, and the clock it is read at."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHANNELS = ("web", "telegram", "wechat")
MAX_DAYS = 366


class InvalidReportQuery(ValueError):
    """A period or channel the reports cannot answer, with the message in Chinese and English."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class ReportQuery:
    """``[start, end)`` in UTC; ``channel`` None means every channel; ``now`` decides what is at risk."""

    start: datetime
    end: datetime
    channel: str | None
    now: datetime
    timezone: str = "Asia/Shanghai"

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    @property
    def first_day(self) -> date:
        return self.start.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def last_day(self) -> date:
        """The last local day included (``end`` is the next day's local midnight)."""
        return (self.end - timedelta(microseconds=1)).astimezone(ZoneInfo(self.timezone)).date()

    @property
    def utc_offset_hours(self) -> int:
        """Whole hours the local clock is ahead of UTC at the start (China has no summer time)."""
        offset = self.start.astimezone(ZoneInfo(self.timezone)).utcoffset() or timedelta()
        return int(offset.total_seconds() // 3600)

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "channel": self.channel,
            "timezone": self.timezone,
            # Local days, so a page in another timezone shows the period the server chose.
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
        }


def parse_query(
    date_from: str | None,
    date_to: str | None,
    channel: str | None,
    *,
    now: datetime,
    timezone: str = "Asia/Shanghai",
    default_days: int = 7,
) -> ReportQuery:
    """Local calendar days ``date_from``..``date_to`` (both included; default: the last 7 days)."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    last = _day(date_to, "to") if date_to else today
    first = _day(date_from, "from") if date_from else last - timedelta(days=default_days - 1)
    if first > last:
        raise InvalidReportQuery("开始日期不能晚于结束日期", "'from' must not be after 'to'")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidReportQuery(
            f"统计区间最长 {MAX_DAYS} 天", f"The period may span at most {MAX_DAYS} days"
        )
    if channel in ("", "all"):
        channel = None
    if channel is not None and channel not in CHANNELS:
        raise InvalidReportQuery(
            f"渠道必须是 {' / '.join(CHANNELS)} 之一", f"channel must be one of {', '.join(CHANNELS)}"
        )
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    return ReportQuery(start, end, channel, now, timezone)


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidReportQuery(
            f"日期格式应为 YYYY-MM-DD（{name}）", f"'{name}' must be a date like 2026-12-01"
        ) from None


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def rate(part: int, whole: int) -> float | None:
    """A share rounded to four decimals; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None
