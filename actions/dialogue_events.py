"""Reading the dialogue's history (Rasa's tracker events as plain dicts): which request started the
identity check, and the last valid contact number the customer gave. No Rasa imports, tested alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accounts.phone import normalize_mobile

ACCOUNT_INTENTS = (
    "query_account",
    "check_ticket",
    "change_plan",
    "order_addon",
    "cancel_service",
    "port_number",
)


def request_message(events: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """Intent and text of the message that started the latest identity verification.

    Taken from the event history rather than a slot, so that what the customer types into the
    verification form (a phone number, a code) can never change which request is served.
    """
    start = len(events)
    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        if e.get("event") == "active_loop" and e.get("name") == "verification_form":
            start = i
            break
    for e in reversed(events[:start]):
        if e.get("event") == "user":
            intent = str(((e.get("parse_data") or {}).get("intent") or {}).get("name") or "")
            return (intent if intent in ACCOUNT_INTENTS else "query_account"), str(e.get("text") or "")
    return "query_account", ""


def last_valid_phone(events: Sequence[Mapping[str, Any]]) -> str | None:
    """The latest ``contact_phone`` slot value that is a valid mobile number, normalised."""
    for event in reversed(events):
        if event.get("event") == "slot" and event.get("name") == "contact_phone":
            phone = normalize_mobile(str(event.get("value") or ""))
            if phone is not None:
                return phone
    return None
