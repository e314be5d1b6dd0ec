"""What customers do with tickets (through the chat): report, follow, add to, withdraw and rate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.core import (
    CUSTOMER,
    category_of,
    parse_severity,
    phone_key,
    record_event,
    remember_request,
    replayed_request,
)
from tickets.errors import InvalidRating, InvalidTicketData, InvalidTransition, NotTicketOwner
from tickets.incidents import VERIFIED_KEY, IncidentOperations, is_trusted_report
from tickets.models import Ticket, TicketComment
from tickets.rules import CATEGORY_LABELS, DEPARTMENT_LABELS, SEVERITY_PRIORITY, Category
from tickets.state_machine import OPEN_STATUSES, Status
from tickets.unit_of_work import lock_key
from tickets.views import TicketView


class CustomerOperations(IncidentOperations):  # a fault report may open an area incident
    def open_ticket(
        self,
        *,
        category: str,
        type: str,
        phone: str,
        channel: str,
        conversation_id: str | None,
        description: str,
        details: dict[str, Any] | None = None,
        district: str | None = None,
        severity: str | None = None,
        actor: str = CUSTOMER,
        verified: bool = False,
        request_key: str | None = None,
    ) -> TicketView:
        """Open a ticket, or add the report to the customer's open ticket for the same problem.

        ``category``: fault | complaint | business | inquiry (also "application", Chinese names).
        ``type``: a type code from ``tickets.rules.TICKET_TYPES`` or the customer's words
        ("宽带断网", "携号转网"); unknown words give the category's "other" type and are kept in
        ``details["type_text"]``. ``severity`` "I".."IV" overrides the type's default.
        The result has ``merged_into_existing=True`` when the report joined an open ticket, and
        ``incident`` set when the district has a known outage (then the ticket is linked to it).
        Raises ``InvalidTicketData`` for an unknown category/severity, a bad phone or empty text.

        ``verified``: the reporter proved in this conversation that they hold ``phone`` (SMS code;
        ``accounts.verification.VerificationService.verified_phone``). Only then may a report join
        (and so reveal) that number's open ticket, and only verified reports (or staff's) count
        towards opening an area incident: anyone can type someone else's number.

        ``request_key``: the customer message asking for it (``actions.request_keys``). A replay of that
        message returns the first result (same ticket, same ``merged_into_existing``) and changes nothing.
        """
        cat = category_of(category)
        ttype = self.rules.resolve_type(cat, type)
        digits = phone_key(phone)
        if not digits:
            raise InvalidTicketData("请提供正确的11位手机号码", "A valid 11-digit mobile number is required")
        desc = (description or "").strip()
        if not desc:
            raise InvalidTicketData("请描述一下遇到的问题", "The description must not be empty")
        sev = parse_severity(severity) if severity else ttype.severity
        extra = dict(details or {})
        if type and type != ttype.code:
            extra.setdefault("type_text", type)
        district = (district or "").strip() or None
        trusted = is_trusted_report(actor, verified)
        extra[VERIFIED_KEY] = trusted

        def work(session: Session) -> tuple[str, bool]:
            now = self._clock()
            first = replayed_request(session, request_key)
            if first is not None:
                return first
            lock_key(session, f"phone:{digits}")
            existing = self._find_duplicate(session, digits, cat, ttype.code, now) if trusted else None
            if existing is not None:
                existing.report_count += 1
                existing.details = {**existing.details, "repeat_reports": existing.report_count}
                old_priority = existing.priority
                existing.priority = max(1, existing.priority - 1)
                existing.updated_at = now
                session.add(
                    TicketComment(
                        ticket_id=existing.id, at=now, author=actor, author_role="customer", text=desc
                    )
                )
                note = f"客户再次反映：{desc}"
                priorities = (str(old_priority), str(existing.priority))
                record_event(session, existing, now, actor, "merged_report", *priorities, note)
                remember_request(session, request_key, existing.id, True, now)
                return existing.id, True
            rule = self.rules.deadline(cat, sev)
            ticket = Ticket(
                id=self._next_id(session, "TK", now, 4),
                category=cat.value,
                type=ttype.code,
                severity=sev.value,
                priority=SEVERITY_PRIORITY[sev],
                status=Status.NEW.value,
                department=ttype.department.value,
                assignee=None,
                phone=digits,
                channel=(channel or "unknown")[:24],
                conversation_id=conversation_id,
                district=district,
                description=desc,
                details=extra,
                incident_id=None,
                report_count=1,
                created_at=now,
                updated_at=now,
                first_response_due_at=self.calendar.deadline(now, rule.first_response),
                first_responded_at=None,
                due_at=self.calendar.deadline(now, rule.resolution),
                sla_started_at=now,
                paused_at=None,
                paused_seconds=0,
                overdue=False,
                version=1,
            )
            session.add(ticket)
            session.flush()
            dispatched = f"派往{DEPARTMENT_LABELS[ttype.department]}（依据《服务指南》{rule.source}）"
            note = f"{CATEGORY_LABELS[cat]}·{ttype.label}，{dispatched}"
            record_event(session, ticket, now, actor, "created", None, Status.NEW.value, note)
            if cat is Category.FAULT and district:
                self._group_incident(session, ticket, now)
            remember_request(session, request_key, ticket.id, False, now)
            return ticket.id, False

        ticket_id, merged = self.db.write(work)
        return replace(self.get(ticket_id), merged_into_existing=merged)

    def list_for_customer(self, phone: str) -> list[TicketView]:
        """The customer's tickets, newest first (open and finished)."""
        query = select(Ticket).where(Ticket.phone == phone_key(phone))
        return self._views(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()))

    def pending_rating(self, phone: str) -> list[TicketView]:
        """Resolved tickets of this customer that still wait for a 1–5 rating, newest first."""
        query = select(Ticket).where(
            Ticket.phone == phone_key(phone), Ticket.status == Status.RESOLVED.value, Ticket.rating.is_(None)
        )
        return self._views(query.order_by(Ticket.resolved_at.desc()))

    def add_customer_info(self, *, ticket_id: str, phone: str, text: str) -> TicketView:
        """The owner adds information; a ticket waiting for the customer resumes (its SLA clock restarts).

        Raises ``TicketNotFound``, ``NotTicketOwner``, ``InvalidTransition`` (ticket finished),
        ``InvalidTicketData`` (empty text).
        """
        body = (text or "").strip()
        if not body:
            raise InvalidTicketData("补充内容不能为空", "The added information must not be empty")

        def work(session: Session) -> None:
            now = self._clock()
            ticket = self._owned(session, ticket_id, phone)
            status = Status(ticket.status)
            if status not in OPEN_STATUSES:
                raise InvalidTransition(ticket.id, status, "add_info")
            session.add(
                TicketComment(ticket_id=ticket.id, at=now, author=CUSTOMER, author_role="customer", text=body)
            )
            record_event(session, ticket, now, CUSTOMER, "customer_info", None, None, body)
            if status is Status.WAITING_CUSTOMER:
                self._transition(session, ticket, Status.IN_PROGRESS, CUSTOMER, "客户已补充信息", now)
            ticket.updated_at = now

        self.db.write(work)
        return self.get(ticket_id)

    def cancel_by_customer(self, *, ticket_id: str, phone: str, reason: str) -> TicketView:
        """The owner withdraws an open ticket.

        Raises ``TicketNotFound``, ``NotTicketOwner``, ``InvalidTransition``.
        """

        def work(session: Session) -> None:
            ticket = self._owned(session, ticket_id, phone)
            self._transition(session, ticket, Status.CANCELLED, CUSTOMER, reason or "客户撤销", self._clock())

        self.db.write(work)
        return self.get(ticket_id)

    def rate(self, *, ticket_id: str, phone: str, score: int, comment: str | None = None) -> TicketView:
        """Store the owner's 1–5 rating (and comment) and close the resolved ticket.

        Raises ``InvalidRating`` (score outside 1–5, ticket not resolved, already rated),
        ``TicketNotFound``, ``NotTicketOwner``.
        """
        return self._rate(ticket_id, score, comment, lambda s: self._owned(s, ticket_id, phone))

    def rate_in_conversation(
        self, *, ticket_id: str, conversation_id: str, score: int, comment: str | None = None
    ) -> TicketView:
        """The rating form shown in the conversation the ticket came from: that conversation is
        the proof of ownership (no second identity check). Raises like ``rate``."""

        def owned(session: Session) -> Ticket:
            ticket = self._locked(session, ticket_id)
            if not conversation_id or ticket.conversation_id != conversation_id:
                raise NotTicketOwner(ticket_id)
            return ticket

        return self._rate(ticket_id, score, comment, owned)

    def _rate(
        self, ticket_id: str, score: int, comment: str | None, load: Callable[[Session], Ticket]
    ) -> TicketView:
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidRating("评分需为1到5分", "The score must be an integer from 1 to 5")

        def work(session: Session) -> None:
            now = self._clock()
            ticket = load(session)
            if ticket.rating is not None:
                raise InvalidRating(f"工单{ticket.id}已经评价过了", f"Ticket {ticket.id} is already rated")
            if ticket.status not in (Status.RESOLVED.value, Status.CLOSED.value):
                raise InvalidRating(
                    f"工单{ticket.id}尚未处理完毕，暂不能评价", f"Ticket {ticket.id} is not resolved yet"
                )
            ticket.rating = score
            ticket.rating_comment = (comment or "").strip() or None
            ticket.rated_at = now
            record_event(session, ticket, now, CUSTOMER, "rating", None, str(score), ticket.rating_comment)
            if ticket.status == Status.RESOLVED.value:
                self._transition(session, ticket, Status.CLOSED, CUSTOMER, "客户已评价", now)

        self.db.write(work)
        return self.get(ticket_id)

    def _find_duplicate(
        self, session: Session, phone: str, cat: Category, type_code: str, now: datetime
    ) -> Ticket | None:
        query = select(Ticket).where(
            Ticket.phone == phone,
            Ticket.category == cat.value,
            Ticket.type == type_code,
            Ticket.status.in_([s.value for s in OPEN_STATUSES]),
        )
        if self.settings.duplicate_window_hours:
            query = query.where(
                Ticket.created_at >= now - timedelta(hours=self.settings.duplicate_window_hours)
            )
        return session.scalars(query.order_by(Ticket.created_at.desc()).with_for_update()).first()
