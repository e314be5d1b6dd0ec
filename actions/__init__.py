"""Rasa custom actions: thin adapters over accounts, tariffs, tickets and retrieval.

Importing the package imports every module so ``python -m rasa_sdk --actions actions``
registers all actions.
"""

from actions import (
    account,
    account_change,
    fallback,
    faq,
    handoff,
    health,
    tariffs,
    ticket_forms,
    tickets,
    verification,
)

__all__ = [
    "account",
    "account_change",
    "fallback",
    "faq",
    "handoff",
    "health",
    "tariffs",
    "ticket_forms",
    "tickets",
    "verification",
]
