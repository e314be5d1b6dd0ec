"""The ticket service's errors; each carries a message safe to show customers and agents (zh and en)."""

from __future__ import annotations

from tickets.state_machine import STATUS_LABELS, Status, allowed_targets

# Operations that are not status moves but are refused on a finished ticket, named for the message.
_ACTIONS = {"add_info": "补充信息", "assign": "派单", "change_severity": "调整等级"}


class TicketError(Exception):
    """Base of the service's errors; ``message_zh`` is safe to show to customers and agents."""

    code = "ticket_error"

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


class TicketNotFound(TicketError):
    code = "ticket_not_found"

    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"工单{ticket_id}不存在", f"Ticket {ticket_id} not found")
        self.ticket_id = ticket_id


class IncidentNotFound(TicketError):
    code = "incident_not_found"

    def __init__(self, incident_id: str) -> None:
        super().__init__(f"故障事件{incident_id}不存在", f"Incident {incident_id} not found")


class InvalidTransition(TicketError):
    code = "invalid_transition"

    def __init__(self, ticket_id: str, current: Status, target: Status | str) -> None:
        target_label = (
            STATUS_LABELS[Status(target)] if target in set(Status) else _ACTIONS.get(target, target)
        )
        allowed = "、".join(STATUS_LABELS[s] for s in allowed_targets(current)) or "无（工单已结束）"
        super().__init__(
            f"工单{ticket_id}当前状态为“{STATUS_LABELS[current]}”，不能变更为“{target_label}”；可变更为：{allowed}",
            f"Ticket {ticket_id} is {current.value}; it cannot move to {target}. "
            f"Allowed: {', '.join(s.value for s in allowed_targets(current)) or 'none (finished)'}",
        )
        self.current = current
        self.target = target


class NotTicketOwner(TicketError):
    code = "not_ticket_owner"

    def __init__(self, ticket_id: str) -> None:
        super().__init__(
            f"工单{ticket_id}不属于该号码", f"Ticket {ticket_id} does not belong to this customer"
        )


class InvalidRating(TicketError):
    code = "invalid_rating"


class InvalidTicketData(TicketError):
    code = "invalid_ticket_data"
