"""Area outages: district fault reports grouped into an incident, which resolves its tickets when fixed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.core import SYSTEM, TicketCore, record_event
from tickets.errors import IncidentNotFound, TicketError
from tickets.models import Incident, Ticket
from tickets.rules import SEVERITY_PRIORITY, Category, Severity
from tickets.state_machine import OPEN_STATUSES, Status
from tickets.unit_of_work import lock_key
from tickets.views import IncidentInfo, TicketView, incident_view


class IncidentOperations(TicketCore):
    def known_incident(self, district: str | None) -> IncidentInfo | None:
        """The open outage in a district (to tell a customer before they even report), or None."""
        if not district:
            return None
        with self.db.read() as session:
            incident = session.scalars(
                select(Incident).where(Incident.district == district.strip(), Incident.status == "open")
            ).first()
            return incident_view(session, incident, self.calendar.tz) if incident else None

    def list_incidents(self, *, open_only: bool = True) -> list[IncidentInfo]:
        with self.db.read() as session:
            query = select(Incident).order_by(Incident.created_at.desc())
            if open_only:
                query = query.where(Incident.status == "open")
            return [incident_view(session, i, self.calendar.tz) for i in session.scalars(query).all()]

    def resolve_incident(self, incident_id: str, *, actor: str, note: str) -> list[TicketView]:
        """Close an outage: every open linked ticket is resolved (and its customer asked for a rating)."""

        def work(session: Session) -> list[str]:
            now = self._clock()
            incident = session.get(Incident, incident_id, with_for_update=True)
            if incident is None:
                raise IncidentNotFound(incident_id)
            if incident.status != "open":
                raise TicketError(
                    f"故障事件{incident_id}已处理完毕", f"Incident {incident_id} is already resolved"
                )
            incident.status = "resolved"
            incident.resolved_at = now
            incident.resolution_note = note
            ids: list[str] = []
            for ticket in session.scalars(
                select(Ticket).where(Ticket.incident_id == incident_id).with_for_update()
            ).all():
                if Status(ticket.status) in OPEN_STATUSES:
                    self._transition(session, ticket, Status.RESOLVED, actor, f"区域故障已修复：{note}", now)
                    ids.append(ticket.id)
            return ids

        views = [self.get(i) for i in self.db.write(work)]
        for view in views:
            self._notify(view, "incident_resolved")
        return views

    def _group_incident(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """Link a district fault to its open incident, or open one when enough reports arrived lately."""
        district = ticket.district or ""
        lock_key(session, f"district:{district}")
        incident = session.scalars(
            select(Incident).where(Incident.district == district, Incident.status == "open")
        ).first()
        if incident is None:
            since = now - timedelta(minutes=self.settings.incident_window_minutes)
            recent = session.scalars(
                select(Ticket).where(
                    Ticket.district == district,
                    Ticket.category == Category.FAULT.value,
                    Ticket.incident_id.is_(None),
                    Ticket.created_at >= since,
                    Ticket.status.in_([s.value for s in OPEN_STATUSES]),
                )
            ).all()
            if len({t.phone for t in recent}) < self.settings.incident_threshold:
                return
            rule = self.rules.deadline(Category.FAULT, Severity.II)
            incident = Incident(
                id=self._next_id(session, "INC", now, 3),
                district=district,
                status="open",
                title=f"{district}网络故障",
                created_at=now,
                expected_fix_at=self.calendar.deadline(now, rule.resolution),
            )
            session.add(incident)
            session.flush()
            members = list(recent)
        else:
            members = [ticket]
        for member in members:
            member.incident_id = incident.id
            record_event(
                session, member, now, SYSTEM, "incident", None, incident.id, f"已关联区域故障{incident.id}"
            )
            if SEVERITY_PRIORITY[Severity(member.severity)] > SEVERITY_PRIORITY[Severity.II]:
                self._set_severity(session, member, Severity.II, SYSTEM, "区域性故障，升级为二级", now)
