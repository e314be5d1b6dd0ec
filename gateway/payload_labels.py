"""Button presses versus typed words, and what a button press looks like to people.

Buttons send Rasa payloads such as ``/request_human`` or ``/affirm``. The payload is what
the bot needs, but the customer's transcript (after a reload) and the agent console should
show what the customer clicked — the button's title — and agent assist searches only what
the customer typed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.conversations import StoredMessage

# Payloads the web chat sends from its own controls (not from a bot button).
FIXED_LABELS: dict[str, str] = {
    "/request_human": "转人工",
    "/affirm": "是",
    "/deny": "否",
}
# The web chat's rating form sends /rate_ticket{"ticket_id":…,"score":…,"comment":…}.
RATE_PAYLOAD_RE = re.compile(r"^/rate_ticket(\{.*\})\s*$", re.S)


def is_payload(text: str) -> bool:
    """A button press or a control of the web chat, not words the customer typed."""
    return text.lstrip().startswith("/")


def last_typed_text(messages: Iterable[StoredMessage]) -> str:
    """The customer's last typed message (what agent assist searches and the queue previews)."""
    texts = [m.text for m in messages if m.sender == "customer" and not is_payload(m.text)]
    return texts[-1] if texts else ""


def _rating_label(raw: str) -> str | None:
    try:
        data = json.loads(raw)
        score = int(data.get("score"))
    except (ValueError, TypeError, AttributeError):
        return None
    if not 1 <= score <= 5:
        return None
    comment = str(data.get("comment") or "").strip()
    return "评分：" + "★" * score + "☆" * (5 - score) + (f" {comment}" if comment else "")


def payload_label(text: str, recent_buttons: Iterable[dict[str, Any]] = ()) -> str | None:
    """The label to show for a customer message that is a payload, or None for typed text.

    ``recent_buttons`` are the buttons the bot offered last; the title of the one whose payload
    matches wins, so 「确认办理」 shows rather than a generic 「是」.
    """
    if not is_payload(text):
        return None
    stripped = text.strip()
    for button in recent_buttons:
        if str(button.get("payload", "")).strip() == stripped and button.get("title"):
            return str(button["title"])
    rating = RATE_PAYLOAD_RE.match(stripped)
    if rating:
        return _rating_label(rating.group(1))
    return FIXED_LABELS.get(stripped.split("{", 1)[0])
