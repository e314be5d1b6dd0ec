"""The audit log: every agent action (sign-in, claim, message, release, resolve, reassign, tickets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.agents.models import AuditEntry
from kefu.db import retry_when_locked, session_scope
from kefu.privacy import mask_sensitive


@dataclass(frozen=True)
class AuditView:
    at: datetime
    actor: str
    role: str
    action: str
    conversation_id: str | None
    ticket_id: str | None
    ip: str | None
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "at": self.at.isoformat()}


def _mask(value: Any) -> Any:
    """Texts in the log are masked: the audit log is read by more people than the conversation."""
    if isinstance(value, str):
        return mask_sensitive(value)[:500]
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


class AuditLog:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @retry_when_locked()
    def record(
        self,
        *,
        actor: str,
        role: str,
        action: str,
        conversation_id: str | None = None,
        ticket_id: str | None = None,
        ip: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with session_scope(self._sessions) as session:
            session.add(
                AuditEntry(
                    at=datetime.now(UTC),
                    actor=actor[:64],
                    role=role[:16],
                    action=action[:32],
                    conversation_id=conversation_id,
                    ticket_id=ticket_id[:32] if ticket_id else None,
                    ip=(ip or None) and ip[:64],
                    detail=_mask(detail or {}),
                )
            )

    def recent(
        self,
        *,
        limit: int = 100,
        actor: str | None = None,
        conversation_id: str | None = None,
        action: str | None = None,
    ) -> list[AuditView]:
        """Newest first."""
        query = select(AuditEntry)
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if conversation_id:
            query = query.where(AuditEntry.conversation_id == conversation_id)
        if action:
            query = query.where(AuditEntry.action == action)
        with session_scope(self._sessions) as session:
            rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 500)))).all()
            return [
                AuditView(
                    r.at,
                    r.actor,
                    r.role,
                    r.action,
                    r.conversation_id,
                    r.ticket_id,
                    r.ip,
                    dict(r.detail or {}),
                )
                for r in rows
            ]
