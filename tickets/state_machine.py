"""Ticket lifecycle: which status may follow which (enforced by the service)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"


_WORK = (Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CANCELLED)
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(_WORK),
    Status.ASSIGNED: frozenset(_WORK) - {Status.ASSIGNED},
    Status.IN_PROGRESS: frozenset(_WORK) - {Status.IN_PROGRESS},
    Status.WAITING_CUSTOMER: frozenset(_WORK) - {Status.WAITING_CUSTOMER},
    Status.REOPENED: frozenset(_WORK),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}
OPEN_STATUSES = frozenset(
    {Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_CUSTOMER, Status.REOPENED}
)
STATUS_LABELS: dict[Status, str] = {
    Status.NEW: "已受理",
    Status.ASSIGNED: "已派单",
    Status.IN_PROGRESS: "处理中",
    Status.WAITING_CUSTOMER: "待您补充信息",
    Status.RESOLVED: "已解决",
    Status.CLOSED: "已关闭",
    Status.REOPENED: "已重新处理",
    Status.CANCELLED: "已撤销",
}


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


def allowed_targets(current: Status) -> list[Status]:
    return sorted(TRANSITIONS[current], key=list(Status).index)
