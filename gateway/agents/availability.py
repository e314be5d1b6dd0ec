"""Agent availability (online / busy / away) and capacity (how many chats auto-assignment gives).

The status is what the agent chose, kept across sign-ins; an agent without an open console is
shown offline whatever they chose. Capacities are set by supervisors; an agent without one has
the ``KEFU_ASSIGN_DEFAULT_CAPACITY``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.agents.actor import Actor, Forbidden, Invalid
from gateway.agents.tools_models import AgentAvailability
from kefu.db import retry_when_locked, session_scope

# Status -> label; only "online" agents are given conversations automatically.
STATUSES = {"online": "在线", "busy": "忙碌", "away": "离开"}
OFFLINE = "offline"
MAX_CAPACITY = 50


@dataclass(frozen=True)
class AvailabilityView:
    username: str
    status: str  # as chosen
    capacity: int  # effective (the default when not set)
    capacity_set: bool

    def shown(self, connected: bool) -> dict[str, Any]:
        status = self.status if connected else OFFLINE
        return {
            "username": self.username,
            "status": status,
            "status_label": STATUSES.get(status, "离线"),
            "capacity": self.capacity,
            "capacity_set": self.capacity_set,
        }


class Availability:
    def __init__(self, session_factory: sessionmaker[Session], default_capacity: int) -> None:
        self._sessions = session_factory
        self.default_capacity = default_capacity

    def _view(self, username: str, row: AgentAvailability | None) -> AvailabilityView:
        if row is None:
            return AvailabilityView(username, "online", self.default_capacity, False)
        capacity = self.default_capacity if row.capacity is None else row.capacity
        return AvailabilityView(username, row.status, capacity, row.capacity is not None)

    def of(self, username: str) -> AvailabilityView:
        with session_scope(self._sessions) as session:
            return self._view(username, session.get(AgentAvailability, username))

    def all(self, usernames: list[str]) -> dict[str, AvailabilityView]:
        with session_scope(self._sessions) as session:
            rows = {
                r.username: r
                for r in session.scalars(
                    select(AgentAvailability).where(AgentAvailability.username.in_(usernames))
                ).all()
            }
            return {u: self._view(u, rows.get(u)) for u in usernames}

    @retry_when_locked()
    def set_status(self, actor: Actor, status: str) -> AvailabilityView:
        """The signed-in agent's own status."""
        if status not in STATUSES:
            raise Invalid("bad_status", "状态只能是在线、忙碌或离开", "Status is one of online, busy, away")
        return self._write(actor.username, actor.username, status=status)

    @retry_when_locked()
    def set_capacity(self, actor: Actor, username: str, capacity: int | None) -> AvailabilityView:
        """Supervisors: how many conversations ``username`` is given automatically (None: default)."""
        if not actor.supervises:
            raise Forbidden("supervisors_only", "只有主管可以设置接待上限", "Only supervisors set capacities")
        if capacity is not None and not 0 <= capacity <= MAX_CAPACITY:
            raise Invalid(
                "bad_capacity", f"接待上限须在 0–{MAX_CAPACITY} 之间", f"Capacity is 0-{MAX_CAPACITY}"
            )
        return self._write(username, actor.username, capacity=capacity, set_capacity=True)

    def _write(
        self,
        username: str,
        by: str,
        *,
        status: str | None = None,
        capacity: int | None = None,
        set_capacity: bool = False,
    ) -> AvailabilityView:
        with session_scope(self._sessions) as session:
            row = session.get(AgentAvailability, username)
            if row is None:
                row = AgentAvailability(username=username, status="online", capacity=None)
                session.add(row)
            if status is not None:
                row.status = status
            if set_capacity:
                row.capacity = capacity
            row.updated_by, row.updated_at = by, datetime.now(UTC)
            session.flush()
            return self._view(username, row)
