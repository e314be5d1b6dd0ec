"""Supervisor reports computed from stored events (conversations, handoffs, bot turns, tickets).

Plain Python over SQLAlchemy: ``Reports(session_factory).all(query)``; the API is
``gateway/api/routes/reports.py``, the page ``gateway/static/reports.html``.
"""

from gateway.reports.query import InvalidReportQuery, ReportQuery
from gateway.reports.service import FIGURE_NAMES, Reports, UnknownFigure
from gateway.reports.table import Figure
from gateway.reports.turns import TurnLog

__all__ = [
    "FIGURE_NAMES",
    "Figure",
    "InvalidReportQuery",
    "ReportQuery",
    "Reports",
    "TurnLog",
    "UnknownFigure",
]
