"""Overdue tickets: the pass that flags tickets past a deadline, and the loop the gateway runs it in."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.core import SYSTEM, TicketCore, record_event
from tickets.models import Ticket
from tickets.state_machine import OPEN_STATUSES, Status

log = logging.getLogger(__name__)


class OverdueOperations(TicketCore):
    def mark_overdue(self, now: datetime | None = None) -> list[str]:
        """Flag open tickets past a deadline, raise their priority one step, audit it; returns their ids.

        Tickets waiting for the customer are not overdue (their clock is paused).
        """

        def work(session: Session) -> list[str]:
            at = now or self._clock()
            active = [s.value for s in OPEN_STATUSES if s is not Status.WAITING_CUSTOMER]
            rows = session.scalars(
                select(Ticket)
                .where(Ticket.status.in_(active), Ticket.overdue.is_(False))
                .where(
                    (Ticket.due_at < at)
                    | (Ticket.first_responded_at.is_(None) & (Ticket.first_response_due_at < at))
                )
                .with_for_update()
            ).all()
            for ticket in rows:
                missed = "处理时限" if ticket.due_at < at else "首次响应时限"
                old = ticket.priority
                ticket.overdue = True
                ticket.overdue_at = at
                ticket.priority = max(1, ticket.priority - 1)
                ticket.updated_at = at
                record_event(
                    session,
                    ticket,
                    at,
                    SYSTEM,
                    "overdue",
                    str(old),
                    str(ticket.priority),
                    f"已超过{missed}，优先级提升并转主管关注",
                )
            return [t.id for t in rows]

        ids = self.db.write(work)
        if ids:
            log.info("marked %d ticket(s) overdue", len(ids))
        return ids


async def run_overdue_loop(service: OverdueOperations, interval: float) -> None:
    """Run ``mark_overdue`` every ``interval`` seconds until cancelled; a failed pass is logged, not fatal."""
    while True:
        try:
            await anyio.to_thread.run_sync(service.mark_overdue)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("overdue check failed")
        await asyncio.sleep(interval)
