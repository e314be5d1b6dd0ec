"""The knowledge base's gaps, from real traffic: what customers asked that it could not answer, and
answers they rated 「没解决」, grouped by question with counts, so the operator knows what to write next.

Read from the gateway's own transcript (``gateway_message``): a bot message carrying the no-answer
reply, or a 「没解决」 press right after the "did this help" question, is charged to the customer's
last typed question before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.models import Message
from gateway.payload_labels import is_payload
from kefu.db import session_scope
from kefu.privacy import mask_sensitive
from retrieval.replies import HELPFUL_QUESTION, NO_ANSWER_TEXT, NOT_SOLVED_PAYLOAD

SCAN_LIMIT = 200_000  # messages read per request; the newest ones win


@dataclass
class Gap:
    question: str
    no_answer: int = 0
    not_solved: int = 0
    last_at: datetime | None = None
    sections: list[str] = field(default_factory=list)  # what was answered before 「没解决」

    @property
    def total(self) -> int:
        return self.no_answer + self.not_solved

    def to_dict(self) -> dict[str, object]:
        return {
            "question": self.question,
            "no_answer": self.no_answer,
            "not_solved": self.not_solved,
            "total": self.total,
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "sections": self.sections,
        }


def question_key(text: str) -> str:
    """Same question, same row: spacing, case and end punctuation do not count."""
    return re.sub(r"[\s?？。!！，,.~～]+", "", text).lower()


def find_gaps(sessions: sessionmaker[Session], since: datetime, limit: int = 50) -> list[Gap]:
    with session_scope(sessions) as session:
        columns = (Message.conversation_id, Message.seq, Message.sender, Message.text, Message.citations)
        query = select(*columns, Message.created_at).where(Message.created_at >= since)
        rows = list(session.execute(query.order_by(Message.id.desc()).limit(SCAN_LIMIT)).all())
    rows.sort(key=lambda r: (r.conversation_id, r.seq))
    gaps: dict[str, Gap] = {}
    asked: dict[str, str] = {}  # conversation -> last typed question
    last_bot: dict[str, str] = {}
    answered: dict[str, list[str]] = {}  # conversation -> sections cited by the last answer

    def charge(conversation: str, kind: str, at: datetime, sections: list[str]) -> None:
        question = asked.get(conversation)
        if not question:
            return
        gap = gaps.setdefault(question_key(question), Gap(mask_sensitive(question)[:200]))
        if kind == "no_answer":
            gap.no_answer += 1
        else:
            gap.not_solved += 1
            gap.sections += [s for s in sections if s not in gap.sections]
        gap.last_at = max(gap.last_at or at, at)

    for r in rows:
        cid = r.conversation_id
        if r.sender == "customer":
            text = (r.text or "").strip()
            if text == NOT_SOLVED_PAYLOAD and last_bot.get(cid) == HELPFUL_QUESTION:
                charge(cid, "not_solved", r.created_at, answered.get(cid, []))
            elif text and not is_payload(text):
                asked[cid] = text
        elif r.sender == "bot":
            last_bot[cid] = r.text or ""
            if NO_ANSWER_TEXT in (r.text or ""):
                charge(cid, "no_answer", r.created_at, [])
            elif r.citations:
                answered[cid] = [str(c.get("section", "")) for c in r.citations if isinstance(c, dict)]
    ranked = sorted(gaps.values(), key=lambda g: (-g.total, -(g.last_at or since).timestamp()))
    return ranked[:limit]
