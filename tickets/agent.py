"""What staff do with tickets (console and REST API): list, look up, move, assign, re-grade, annotate."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tickets.core import TicketCore, category_of, mark_responded, parse_severity, record_event
from tickets.errors import InvalidTicketData, InvalidTransition
from tickets.models import Ticket, TicketComment
from tickets.rules import Department
from tickets.state_machine import OPEN_STATUSES, Status
from tickets.views import TicketPage, TicketView


class AgentOperations(TicketCore):
    def list_tickets(
        self,
        *,
        status: Sequence[str] | None = None,
        category: str | None = None,
        severity: str | None = None,
        overdue: bool | None = None,
        district: str | None = None,
        department: str | None = None,
        assignee: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> TicketPage:
        """Agents' list, most urgent first (priority, then deadline); filters combine with AND."""
        query = select(Ticket)
        if status:
            query = query.where(Ticket.status.in_([Status(s).value for s in status]))
        if category:
            query = query.where(Ticket.category == category_of(category).value)
        if severity:
            query = query.where(Ticket.severity == parse_severity(severity).value)
        if overdue is not None:
            query = query.where(Ticket.overdue.is_(overdue))
        if district:
            query = query.where(Ticket.district == district)
        if department:
            query = query.where(Ticket.department == Department(department).value)
        if assignee:
            query = query.where(Ticket.assignee == assignee)
        limit = max(1, min(limit, 200))
        offset = max(0, offset)
        with self.db.read() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(Ticket.priority, Ticket.due_at, Ticket.id).limit(limit).offset(offset)
            ).all()
            return TicketPage([self._view(session, t) for t in rows], total, limit, offset)

    def supervisor_view(self) -> list[TicketView]:
        """Open tickets that missed a deadline, most urgent first (the supervisors' queue)."""
        page = self.list_tickets(status=[s.value for s in OPEN_STATUSES], overdue=True, limit=200)
        return page.items

    def contact_phone(self, ticket_id: str, *, actor: str) -> str:
        """The full phone for an authorised agent who must call the customer; the access is audited."""

        def work(session: Session) -> str:
            ticket = self._locked(session, ticket_id)
            record_event(
                session, ticket, self._clock(), actor, "contact_viewed", None, None, "查看客户完整号码"
            )
            return ticket.phone

        return self.db.write(work)

    def change_status(self, ticket_id: str, *, to: str, actor: str, note: str | None = None) -> TicketView:
        """Move a ticket along the lifecycle. Raises ``InvalidTransition`` (with the allowed moves)."""
        try:
            target = Status(to)
        except ValueError as exc:
            raise InvalidTicketData(f"未知的工单状态：{to}", f"Unknown status: {to}") from exc

        def work(session: Session) -> None:
            ticket = self._locked(session, ticket_id)
            self._transition(session, ticket, target, actor, note, self._clock())

        self.db.write(work)
        view = self.get(ticket_id)
        if target is Status.RESOLVED:
            self._notify(view, "resolved")
        return view

    def assign(
        self,
        ticket_id: str,
        *,
        assignee: str,
        actor: str,
        department: str | None = None,
        note: str | None = None,
    ) -> TicketView:
        """Give the ticket to a person (and optionally another department); a new ticket becomes assigned."""
        name = (assignee or "").strip()
        if not name:
            raise InvalidTicketData("处理人不能为空", "The assignee must not be empty")
        dept = Department(department) if department else None

        def work(session: Session) -> None:
            now = self._clock()
            ticket = self._locked(session, ticket_id)
            if Status(ticket.status) not in OPEN_STATUSES:
                raise InvalidTransition(ticket.id, Status(ticket.status), "assign")
            if dept is not None and dept.value != ticket.department:
                record_event(session, ticket, now, actor, "department", ticket.department, dept.value, note)
                ticket.department = dept.value
            record_event(session, ticket, now, actor, "assignee", ticket.assignee, name, note)
            ticket.assignee = name
            mark_responded(ticket, actor, now)
            if ticket.status in (Status.NEW.value, Status.REOPENED.value):
                self._transition(session, ticket, Status.ASSIGNED, actor, note, now)
            ticket.updated_at = now

        self.db.write(work)
        return self.get(ticket_id)

    def change_severity(
        self, ticket_id: str, *, severity: str, actor: str, note: str | None = None
    ) -> TicketView:
        """Re-grade a ticket; its priority and deadlines follow the rules table for the new level."""
        sev = parse_severity(severity)

        def work(session: Session) -> None:
            now = self._clock()
            ticket = self._locked(session, ticket_id)
            if Status(ticket.status) not in OPEN_STATUSES:
                raise InvalidTransition(ticket.id, Status(ticket.status), "change_severity")
            self._set_severity(session, ticket, sev, actor, note, now)

        self.db.write(work)
        return self.get(ticket_id)

    def add_comment(self, ticket_id: str, *, author: str, text: str, role: str = "agent") -> TicketView:
        """A note on the ticket (agents' work log or a customer's message)."""
        body = (text or "").strip()
        if not body:
            raise InvalidTicketData("备注内容不能为空", "The comment must not be empty")

        def work(session: Session) -> None:
            now = self._clock()
            ticket = self._locked(session, ticket_id)
            session.add(
                TicketComment(ticket_id=ticket.id, at=now, author=author, author_role=role, text=body)
            )
            record_event(session, ticket, now, author, "comment", None, None, body)
            if role != "customer":
                mark_responded(ticket, author, now)
            ticket.updated_at = now

        self.db.write(work)
        return self.get(ticket_id)
