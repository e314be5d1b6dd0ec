"""TicketService: open, find, work on and rate tickets; the one place ticket rules are enforced.

Used by the Rasa actions (customer side, ``tickets.customer``: ``open_ticket``, ``list_for_customer``,
``add_customer_info``, ``cancel_by_customer``, ``pending_rating``, ``rate``) and by the REST API (agent
side, ``tickets.agent``: ``list_tickets``, ``get``, ``change_status``, ``assign``, ``change_severity``,
``add_comment``; ``tickets.incidents``: ``resolve_incident``), and by the gateway's overdue job
(``tickets.overdue``). Phones leave the service only masked (``customer_masked``) except via
``contact_phone``, which records who looked.
"""

from __future__ import annotations

from tickets.agent import AgentOperations
from tickets.customer import CustomerOperations
from tickets.overdue import OverdueOperations


class TicketService(CustomerOperations, AgentOperations, OverdueOperations):
    """Every ticket operation on one database (see ``tickets.core.TicketCore`` for the constructor)."""
