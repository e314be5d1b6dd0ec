"""Tickets: faults, complaints, business requests and inquiries with deadlines from the service guide.

Plain Python; Rasa actions and the REST API only translate to it. Import from here: the service, its
errors (match them by type) and the views it returns.
"""

from tickets.errors import (
    IncidentNotFound,
    InvalidRating,
    InvalidTicketData,
    InvalidTransition,
    NotTicketOwner,
    TicketError,
    TicketNotFound,
)
from tickets.overdue import run_overdue_loop
from tickets.service import TicketService
from tickets.state_machine import OPEN_STATUSES, STATUS_LABELS, Status
from tickets.views import CommentView, EventView, IncidentInfo, TicketPage, TicketView

__all__ = [
    "OPEN_STATUSES",
    "STATUS_LABELS",
    "CommentView",
    "EventView",
    "IncidentInfo",
    "IncidentNotFound",
    "InvalidRating",
    "InvalidTicketData",
    "InvalidTransition",
    "NotTicketOwner",
    "Status",
    "TicketError",
    "TicketNotFound",
    "TicketPage",
    "TicketService",
    "TicketView",
    "run_overdue_loop",
]
