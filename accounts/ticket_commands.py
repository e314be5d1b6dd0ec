"""What a verified customer asks to do with one of their tickets, read from what they typed.

「撤销工单 TK20261128-0001」 cancels, 「补充工单 TK… 晚上8点后在家」 adds information,
「评价 TK… 5分 很满意」 rates. Plain parsing, tested without Rasa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TICKET_ID_RE = re.compile(r"TK\d{8}-\d{3,6}", re.IGNORECASE)
_SCORE_RE = re.compile(r"([1-5])\s*(?:分|星)?")


@dataclass(frozen=True)
class TicketCommand:
    ticket_id: str
    command: str  # cancel | add | rate
    rest: str  # what follows the ticket number (reason, information, score and comment)


@dataclass(frozen=True)
class Rating:
    score: int
    comment: str | None


def command_word(text: str) -> str | None:
    """What the customer wants done with a ticket they named: cancel, add (information) or rate."""
    if re.search(r"撤销|撤回|取消", text):
        return "cancel"
    if re.search(r"补充|追加|添加", text):
        return "add"
    if re.search(r"评价|评分|打分", text):
        return "rate"
    return None


def parse_ticket_command(text: str) -> TicketCommand | None:
    """A command about a named ticket, or None when the text names no ticket or no command."""
    match = TICKET_ID_RE.search(text)
    command = command_word(text) if match else None
    if match is None or command is None:
        return None
    rest = TICKET_ID_RE.split(text, maxsplit=1)[-1].strip(" ：:，,。")
    return TicketCommand(match.group(0).upper(), command, rest)


def parse_rating(rest: str) -> Rating | None:
    """「5分 很满意」 -> Rating(5, "很满意"); None without a score from 1 to 5."""
    match = _SCORE_RE.search(rest)
    if not match:
        return None
    return Rating(int(match.group(1)), rest[match.end() :].strip(" ，,。") or None)
