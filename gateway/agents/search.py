"""Search of the whole conversation history: by text, phone, ticket number, label and date.

Searching by phone is a look-up of a customer, so only the roles of
``gateway.agents.disclosure`` that see full numbers may do it; everyone sees the hits' texts
as their role allows. A phone matches the conversations that proved it by SMS, that opened a
ticket for it, or where it was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import ConversationVerification
from gateway.agents.actor import Forbidden, Invalid
from gateway.agents.disclosure import sees_full_numbers, shown
from gateway.agents.labels import Labels
from gateway.agents.models import Handoff
from gateway.agents.tools_models import LabelLink
from gateway.models import Conversation, Message
from kefu.db import session_scope
from kefu.privacy import mask_sensitive
from tickets.models import Ticket

MAX_RESULTS = 100
NUMBER_RUN = re.compile(r"[0-9\uff10-\uff19]{7,}")


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    phone: str = ""
    ticket: str = ""
    label: str = ""
    since: datetime | None = None  # conversations active on or after
    until: datetime | None = None  # conversations started before
    limit: int = 50

    def is_empty(self) -> bool:
        return not (self.text or self.phone or self.ticket or self.label or self.since or self.until)


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not re.fullmatch(r"1[3-9]\d{9}", digits):
        raise Invalid("bad_phone", "请输入 11 位手机号", "Give an 11-digit mobile number")
    return digits


def _contains(column: Any, needle: str) -> ColumnElement[bool]:
    result: ColumnElement[bool] = column.contains(needle, autoescape=True)
    return result


class ConversationSearch:
    def __init__(self, session_factory: sessionmaker[Session], labels: Labels) -> None:
        self._sessions = session_factory
        self._labels = labels

    def search(self, query: SearchQuery, role: str) -> list[dict[str, Any]]:
        """Matching conversations, most recently active first (all conditions must hold)."""
        if query.phone and not sees_full_numbers(role):
            raise Forbidden(
                "phone_search_forbidden",
                "您的角色无权按手机号查找客户",
                "Your role may not search by phone number",
            )
        if not sees_full_numbers(role) and (
            NUMBER_RUN.search(query.text) or mask_sensitive(query.text) != query.text
        ):
            # Typed phone numbers are in the texts: a long digit run would be a phone search.
            raise Forbidden(
                "phone_search_forbidden",
                "您的角色无权按号码查找，请去掉连续 7 位以上的数字",
                "Your role may not search for numbers of 7 or more digits",
            )
        if query.is_empty():
            raise Invalid("empty_search", "请至少填写一个查找条件", "Give at least one search condition")
        conditions: list[ColumnElement[bool]] = []
        text = query.text.strip()
        if text:
            conditions.append(
                Conversation.id.in_(select(Message.conversation_id).where(_contains(Message.text, text)))
            )
        if query.phone:
            phone = _digits(query.phone)
            conditions.append(
                or_(
                    Conversation.id.in_(
                        select(ConversationVerification.conversation_id).where(
                            ConversationVerification.phone == phone
                        )
                    ),
                    Conversation.id.in_(select(Ticket.conversation_id).where(Ticket.phone == phone)),
                    Conversation.id.in_(
                        select(Message.conversation_id).where(
                            Message.sender == "customer", _contains(Message.text, phone)
                        )
                    ),
                )
            )
        ticket = query.ticket.strip().upper()
        if ticket:
            conditions.append(
                or_(
                    Conversation.id.in_(select(Ticket.conversation_id).where(Ticket.id == ticket)),
                    Conversation.id.in_(select(Handoff.conversation_id).where(Handoff.ticket_id == ticket)),
                    Conversation.id.in_(
                        select(Message.conversation_id).where(_contains(Message.text, ticket))
                    ),
                )
            )
        if query.label.strip():
            conditions.append(
                Conversation.id.in_(
                    select(LabelLink.target_id).where(
                        LabelLink.kind == "conversation", LabelLink.label == query.label.strip()
                    )
                )
            )
        if query.since:
            conditions.append(Conversation.last_activity_at >= query.since)
        if query.until:
            conditions.append(Conversation.created_at < query.until)
        limit = max(1, min(query.limit, MAX_RESULTS))
        with session_scope(self._sessions) as session:
            rows = session.scalars(
                select(Conversation)
                .where(and_(*conditions))
                .order_by(Conversation.last_activity_at.desc())
                .limit(limit)
            ).all()
            ids = [c.id for c in rows]
            snippets = self._snippets(session, ids, text)
            tickets = self._tickets(session, ids)
            found = [
                (c.id, c.channel, c.state, c.assigned_agent, c.created_at, c.last_activity_at) for c in rows
            ]
        labels = self._labels.of("conversation", ids)
        return [
            {
                "conversation_id": cid,
                "channel": channel,
                "state": state,
                "assigned_agent": agent,
                "created_at": created.isoformat(),
                "last_activity_at": active.isoformat(),
                "snippet": shown(snippets.get(cid, ""), role)[:200],
                "tickets": tickets.get(cid, []),
                "labels": labels.get(cid, []),
            }
            for cid, channel, state, agent, created, active in found
        ]

    @staticmethod
    def _snippets(session: Session, ids: list[str], text: str) -> dict[str, str]:
        """The first message holding the text (or the first customer message)."""
        if not ids:
            return {}
        where = _contains(Message.text, text) if text else Message.sender == "customer"
        found: dict[str, str] = {}
        rows = session.execute(
            select(Message.conversation_id, Message.text)
            .where(Message.conversation_id.in_(ids), where)
            .order_by(Message.conversation_id, Message.seq)
        ).all()
        for conversation_id, body in rows:
            found.setdefault(conversation_id, body)
        return found

    @staticmethod
    def _tickets(session: Session, ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        if ids:
            rows = session.execute(
                select(Ticket.conversation_id, Ticket.id)
                .where(Ticket.conversation_id.in_(ids))
                .order_by(Ticket.created_at)
            ).all()
            for conversation_id, ticket_id in rows:
                found.setdefault(str(conversation_id), []).append(ticket_id)
        return found
