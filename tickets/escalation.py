"""Words that show a complaint may leave the company: the regulator, the consumer association, the media,
the courts. Such a complaint goes to a person at once; the bot's complaint form and the gateway's own
check of every message read this one table.

Guide: complaints are handled by a dedicated person (2.4.1 「安排专人跟进」, 3.3.4 「由专人调查」), and a
customer complaint is an incident to respond to at once (7.1 分级响应, 7.2 客户投诉类).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class EscalationRule:
    pattern: re.Pattern[str]
    note: str  # shown to the agent who takes the conversation
    source: str  # guide section


def _rule(pattern: str, note: str, source: str = "2.4.1, 3.3.4") -> EscalationRule:
    return EscalationRule(re.compile(pattern, re.IGNORECASE), note, source)


ESCALATION_RULES: tuple[EscalationRule, ...] = (
    _rule(r"工信部|工业和信息化部|通信管理局|通管局", "客户提及向工信部/通信管理局申诉"),
    # 315 / 12315 alone, never inside a longer number such as the phone 13315012345.
    _rule(r"(?<!\d)(?:12)?315(?!\d)", "客户提及315/12315投诉"),
    _rule(r"消协|消费者协会", "客户提及消费者协会"),
    _rule(r"媒体|曝光|记者|上新闻", "客户提及媒体曝光"),
    _rule(r"律师|起诉|法院|打官司", "客户提及律师/法律途径"),
    _rule(r"投诉到|去投诉你们|向上级投诉", "客户表示要向外部投诉"),
)


def escalation_note(text: str) -> str | None:
    """Why this customer text needs a human at once, or None."""
    for rule in ESCALATION_RULES:
        if rule.pattern.search(text):
            return rule.note
    return None
