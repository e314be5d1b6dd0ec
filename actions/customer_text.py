"""What the customer said, read from the Rasa tracker; a button press (a ``/payload``) is not typed text.

``latest_text`` is the one place the forms read the customer's last message, so a normaliser of what
customers type hooks in there once.
"""

from __future__ import annotations

from rasa_sdk import Tracker

from gateway.payload_labels import is_payload
from kefu.textnorm import normalize


def latest_text(tracker: Tracker) -> str:
    """The customer's whole last message (a slot value may be only a piece of it), normalised as the NLU
    reads it (寬帶斷網 -> 宽带断网, full-width digits, Weibo noise) so the forms' keyword tables match."""
    return normalize(str((tracker.latest_message or {}).get("text") or ""))


def typed_texts(tracker: Tracker, limit: int = 20) -> list[str]:
    """The customer's typed messages, oldest first, at most the last ``limit``."""
    texts = [str(e.get("text") or "") for e in tracker.events if e.get("event") == "user"]
    return [t for t in texts if t and not is_payload(t)][-limit:]


def question_text(tracker: Tracker) -> str:
    """The customer's question; after a button like ``/ask_policy`` it is the message typed before it."""
    typed = typed_texts(tracker, 1)
    return typed[0] if typed else ""
