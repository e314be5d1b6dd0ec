"""Who acts at the desk, the errors the desk answers with (routes map them to HTTP), and the
audit line every staff action writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio

from gateway.agents.audit import AuditLog

SUPERVISORS = ("supervisor", "admin")


@dataclass(frozen=True)
class Actor:
    """The signed-in staff member acting (from the bearer token)."""

    username: str
    role: str
    ip: str | None = None

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISORS


class DeskError(Exception):
    status = 409

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


class NotFound(DeskError):
    status = 404


class Forbidden(DeskError):
    status = 403


class Conflict(DeskError):
    status = 409


class Invalid(DeskError):
    status = 422


async def record_action(
    audit: AuditLog,
    actor: Actor,
    action: str,
    conversation_id: str | None = None,
    ticket_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write what a staff member did to the audit log (in a worker thread: it is a database write)."""
    await anyio.to_thread.run_sync(
        lambda: audit.record(
            actor=actor.username,
            role=actor.role,
            action=action,
            conversation_id=conversation_id,
            ticket_id=ticket_id,
            ip=actor.ip,
            detail=detail,
        )
    )
