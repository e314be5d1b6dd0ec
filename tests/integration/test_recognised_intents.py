"""Rasa's answer to the gateway names the intent it recognised in that very message.

The gateway's reports (top intents, fallback rate) are built from it. Rasa keeps each message's
parse for its own answer instead of reading the tracker back; these messages from two customers,
interleaved, must each come back with their own intent.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.request import Request, urlopen

import pytest

from tests.conftest import LiveStack

pytestmark = pytest.mark.integration


def _recognised(live_stack: LiveStack, sender: str, text: str) -> dict[str, Any]:
    req = Request(
        f"{live_stack.settings.rasa_url}/webhooks/gateway/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Kefu-Channel-Secret": live_stack.supervisor.env["KEFU_RASA_CHANNEL_SECRET"],
        },
    )
    with urlopen(req, timeout=60) as response:
        answer = json.loads(response.read())
    notes = [m["custom"]["kefu_nlu"] for m in answer if "kefu_nlu" in (m.get("custom") or {})]
    assert len(notes) == 1, answer
    return dict(notes[0])


def test_each_answer_names_the_intent_of_its_own_message(live_stack: LiveStack) -> None:
    first = _recognised(live_stack, "intent-a", "你好")
    other = _recognised(live_stack, "intent-b", "我家宽带断网了，一直连不上")
    again = _recognised(live_stack, "intent-a", "谢谢")
    assert first["intent"] == "greet"
    assert other["intent"] == "report_fault"
    assert again["intent"] == "thank"
    assert all(0.0 < note["confidence"] <= 1.0 for note in (first, other, again))
