"""Real services on a fresh database per test; trackers built from plain data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.common as common
from accounts.seed import seed_demo_accounts
from kefu.settings import get_common_settings
from tickets.forms import FORM_SLOTS

SAMPLE_TARIFFS = Path(__file__).parents[1] / "tariffs" / "sample_tariffs.yml"
DOMAIN: dict[str, Any] = {}
FORM_SLOT_NAMES = list(FORM_SLOTS)  # the forms' slots, in the order the actions clear them
_CACHED = (get_common_settings, common.session_factory, common.verification_service, common.ticket_service)


@pytest.fixture
def services(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The action server's singletons pointed at a temporary var dir and database with demo accounts."""
    monkeypatch.setenv("KEFU_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KEFU_DATABASE_URL", database_url)
    monkeypatch.setenv("KEFU_TARIFFS_PATH", str(SAMPLE_TARIFFS))
    _clear_caches()
    seed_demo_accounts(database_url)
    yield tmp_path
    _clear_caches()


def _clear_caches() -> None:
    for cached in _CACHED:
        cached.cache_clear()


def user_event(text: str, intent: str, confidence: float = 0.95, ranking: list[dict[str, Any]] | None = None):
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    if ranking is not None:
        parse["intent_ranking"] = ranking
    return {"event": "user", "text": text, "parse_data": parse}


def make_tracker(
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    sender_id: str = "conv-1",
) -> Tracker:
    events = events or []
    latest = next((e["parse_data"] for e in reversed(events) if e.get("event") == "user"), {})
    return Tracker(
        sender_id,
        slots or {},
        latest,
        events,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def said(text: str, buttons: list[dict[str, Any]] | None = None, custom: dict[str, Any] | None = None):
    """One message exactly as ``CollectingDispatcher.utter_message`` records it."""
    return {
        "text": text,
        "buttons": buttons or [],
        "elements": [],
        "custom": custom or {},
        "template": None,
        "response": None,
        "image": None,
        "attachment": None,
    }


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(str(m.get("text") or "") for m in dispatcher.messages)


def outbox_code(var_dir: Path, phone: str) -> str:
    import json

    for line in reversed((var_dir / "sms_outbox.jsonl").read_text(encoding="utf-8").splitlines()):
        entry = json.loads(line)
        if entry["phone"] == phone:
            return str(entry["code"])
    raise AssertionError("no code sent")
