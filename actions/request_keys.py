"""Idempotency keys of the customer messages that cause an effect (a ticket, a plan change, an add-on).

The key must be the same when the *same* customer message reaches the actions again, and differ for
any other message. What reaches the action server again, and what stays the same:

- The gateway replays a backlog message (Rasa was down or died mid-turn) and answers a message a crashed
  gateway left unanswered. Rasa saves a turn only when the turn ends, so the replayed message meets the
  same tracker: same session, same number of earlier user messages, same text. Rasa's own
  ``message_id`` and timestamp are new on every delivery (its REST-style channel assigns them), so they
  cannot be the key.
- A customer retrying the same message (web chat resend with its ``client_msg_id``, WeChat redelivery
  of a ``MsgId``) is deduplicated by the gateway into the same stored message; it reaches Rasa again
  only in the two cases above.

So the key is the conversation, the start of the current Rasa session, the position of the message
among that session's user messages and its text. When the gateway names its stored message in the
metadata (``kefu_message_id``, the conversation's message sequence), that name is used instead: it
also stays the same if Rasa had already saved the turn.

Plain functions over Rasa's event dicts, so they are tested without Rasa.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from kefu.message_metadata import GATEWAY_MESSAGE_ID

EFFECTS = ("ticket", "account_change")  # a form's ticket; a confirmed plan, add-on or business request


def message_basis(events: Iterable[Mapping[str, Any]]) -> str | None:
    """What identifies the latest user message of these tracker events (see the module docstring), or
    None when there is no user message in the current session."""
    session = ""
    position = 0
    latest: Mapping[str, Any] | None = None
    for event in events:
        kind = event.get("event")
        if kind == "session_started":
            session, position, latest = repr(event.get("timestamp")), 0, None
        elif kind == "user":
            position += 1
            latest = event
    if latest is None:
        return None
    metadata = latest.get("metadata") or (latest.get("parse_data") or {}).get("metadata") or {}
    gateway_id = metadata.get(GATEWAY_MESSAGE_ID) if isinstance(metadata, Mapping) else None
    if gateway_id:
        return f"gateway={gateway_id}"
    return f"session={session};n={position};text={latest.get('text') or ''}"


def request_key(conversation_id: str, effect: str, events: Iterable[Mapping[str, Any]]) -> str | None:
    """The 64-hex key of ``effect`` caused by the latest user message of conversation ``conversation_id``,
    or None without a user message (then nothing identifies a replay, and the effect has no key)."""
    if effect not in EFFECTS:
        raise ValueError(f"unknown effect {effect!r}")
    basis = message_basis(events)
    if basis is None:
        return None
    basis = f"{effect}\x1f{conversation_id}\x1f{basis}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()
