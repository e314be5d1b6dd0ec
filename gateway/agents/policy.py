"""The queue's rules: why a conversation goes to a human, how urgent it is, and when agents work.

Each rule is one readable table; routing and the console only look things up here. The escalation
words are the complaint rules' own table (``tickets.escalation``), re-exported for the router.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from tickets.escalation import escalation_note

__all__ = ["REASONS", "UNKNOWN_REASON", "Reason", "WorkingHours", "escalation_note", "reason_for"]


@dataclass(frozen=True)
class Reason:
    code: str
    label: str  # shown to agents
    priority: int  # higher is served first; equal priorities by waiting time
    source: str  # guide section the rule comes from


# Why a conversation is in the human queue (the ``handoff.reason`` of the bot's payload, or the
# gateway's own escalation check, ``tickets.escalation``), most urgent first.
REASONS: dict[str, Reason] = {
    r.code: r
    for r in (
        # A complaint that may leave the company: a dedicated person at once (2.4.1, 3.3.4, 7.2).
        Reason("escalation", "投诉升级风险", 20, "2.4.1, 3.3.4, 7.2"),
        # Complex problems the bot cannot handle are passed on, not answered at random (2.2.2).
        Reason("fallback", "机器人连续未能理解", 10, "2.2.2"),
        # Smart and human service answer side by side (5.2.1 「智能客服+人工客服」双线响应).
        Reason("request_human", "客户要求转人工", 5, "5.2.1"),
        # A message left after hours is answered within the 24-hour response target (5.2.1).
        Reason("after_hours_message", "非工作时间留言", 0, "5.2.1"),
        # An agent who joins is responsible for the conversation from then on (5.2.1 首问负责制).
        Reason("agent_takeover", "坐席主动接管", 5, "5.2.1"),
    )
}
UNKNOWN_REASON = Reason("other", "其他原因", 5, "")


def reason_for(code: str | None) -> Reason:
    return REASONS.get(code or "", UNKNOWN_REASON)


class WorkingHours:
    """When agents answer: a daily window in a time zone ("08:00-22:00"; "00:00-24:00" = always)."""

    def __init__(self, spec: str, timezone: str = "Asia/Shanghai") -> None:
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", spec or "")
        if not match:
            raise ValueError(f"working hours must look like 08:00-22:00, got {spec!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise ValueError(f"invalid working hours {spec!r}")
        self.spec = f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"
        self.zone = ZoneInfo(timezone)
        self._start = h1 * 60 + m1
        self._end = h2 * 60 + m2

    @classmethod
    def always(cls) -> WorkingHours:
        return cls("00:00-24:00", "UTC")

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        if self._start == self._end:
            return False
        if self._start < self._end:
            return self._start <= minute < self._end
        return minute >= self._start or minute < self._end  # overnight shift, e.g. 22:00-06:00

    @property
    def label(self) -> str:
        start, end = self.spec.split("-")
        return f"每天 {start}–{end}"
