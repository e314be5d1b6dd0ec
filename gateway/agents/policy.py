"""The queue's rules: why a conversation goes to a human, how urgent it is, and when agents work.

Each rule is one readable table; routing and the console only look things up here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Reason:
    code: str
    label: str  # shown to agents
    priority: int  # higher is served first; equal priorities by waiting time


# Why a conversation is in the human queue (the ``handoff.reason`` of the bot's payload, or the
# gateway's own escalation check). Escalation risk goes first: the guide's complaint rules (3.3)
# ask for an immediate human response when a customer threatens to take a complaint outside.
REASONS: dict[str, Reason] = {
    r.code: r
    for r in (
        Reason("escalation", "投诉升级风险", 20),
        Reason("fallback", "机器人连续未能理解", 10),
        Reason("request_human", "客户要求转人工", 5),
        Reason("after_hours_message", "非工作时间留言", 0),
        Reason("agent_takeover", "坐席主动接管", 5),
    )
}
UNKNOWN_REASON = Reason("other", "其他原因", 5)


def reason_for(code: str | None) -> Reason:
    return REASONS.get(code or "", UNKNOWN_REASON)


# Words that show a complaint may leave the company (regulator, consumer association, media,
# courts). The dialogue's complaint actions check the same risk; the gateway checks on its own
# so that no wording slips through to the bot.
ESCALATION_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), note)
    for pattern, note in (
        (r"工信部|工业和信息化部|通信管理局|通管局", "客户提及向工信部/通信管理局申诉"),
        (r"(?<!\d)(?:12)?315(?!\d)", "客户提及315/12315投诉"),
        (r"消协|消费者协会", "客户提及消费者协会"),
        (r"媒体|曝光|记者|上新闻", "客户提及媒体曝光"),
        (r"律师|起诉|法院|打官司", "客户提及律师/法律途径"),
        (r"投诉到|去投诉你们|向上级投诉", "客户表示要向外部投诉"),
    )
)


def escalation_note(text: str) -> str | None:
    """Why this customer message needs a human at once, or None."""
    for pattern, note in ESCALATION_PATTERNS:
        if pattern.search(text):
            return note
    return None


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
