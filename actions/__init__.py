"""Rasa custom actions: thin adapters over accounts, tariffs, tickets and retrieval.

Importing the package imports every module so ``python -m rasa_sdk --actions actions``
registers all actions.
"""

from actions import account, fallback, faq, handoff, health, tariffs, tickets, verification

__all__ = ["account", "fallback", "faq", "handoff", "health", "tariffs", "tickets", "verification"]
