"""The idempotency key of a customer message: the same for its replay, different for any other message."""

from __future__ import annotations

from typing import Any

from actions.request_keys import request_key
from kefu.message_metadata import GATEWAY_MESSAGE_ID


def _user(text: str, **extra: Any) -> dict[str, Any]:
    return {"event": "user", "text": text, "message_id": extra.pop("message_id", "x"), **extra}


SESSION = [{"event": "session_started", "timestamp": 1764630000.5}, _user("宽带断了"), _user("13800138000")]


def test_a_replay_meets_the_same_tracker_and_gets_the_same_key() -> None:
    """Rasa gives the replayed message a new message_id and timestamp: neither is part of the key."""
    first = request_key("c1", "ticket", [*SESSION, _user("/affirm", message_id="a", timestamp=1.0)])
    replay = request_key("c1", "ticket", [*SESSION, _user("/affirm", message_id="b", timestamp=9.0)])
    assert first == replay and first is not None and len(first) == 64


def test_the_next_message_another_session_conversation_or_effect_gets_another_key() -> None:
    base = request_key("c1", "ticket", [*SESSION, _user("/affirm")])
    assert request_key("c1", "ticket", [*SESSION, _user("/affirm"), _user("/affirm")]) != base
    later = [{"event": "session_started", "timestamp": 1764700000.0}, *SESSION[1:], _user("/affirm")]
    assert request_key("c1", "ticket", later) != base
    assert request_key("c2", "ticket", [*SESSION, _user("/affirm")]) != base
    assert request_key("c1", "account_change", [*SESSION, _user("/affirm")]) != base


def test_the_gateway_message_id_names_the_message_when_present() -> None:
    meta = {"metadata": {GATEWAY_MESSAGE_ID: "c1:7"}}
    saved_twice = [*SESSION, _user("/affirm", **meta), _user("/affirm", **meta)]
    once = [*SESSION, _user("/affirm", **meta)]
    assert request_key("c1", "ticket", saved_twice) == request_key("c1", "ticket", once)


def test_without_a_user_message_there_is_no_key() -> None:
    assert request_key("c1", "ticket", [{"event": "session_started", "timestamp": 1.0}]) is None
