"""The background job that flags overdue tickets for supervisors (started by the gateway lifespan)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import anyio

from tickets.service import TicketService

log = logging.getLogger(__name__)


def mark_overdue(service: TicketService, now: datetime | None = None) -> list[str]:
    """One pass: open tickets past a deadline become overdue with raised priority; returns their ids."""
    return service.mark_overdue(now)


async def run_overdue_loop(service: TicketService, interval: float) -> None:
    """Run ``mark_overdue`` every ``interval`` seconds until cancelled; a failed pass is logged, not fatal."""
    while True:
        try:
            await anyio.to_thread.run_sync(service.mark_overdue)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("overdue check failed")
        await asyncio.sleep(interval)
