"""Rasa dies after the action opened the ticket but before it saved the turn; the gateway then sends the
customer's message again. The real stack answers with the same ticket and stores one ticket."""

from __future__ import annotations

import json
from typing import Any
from urllib.request import Request, urlopen

import pytest

from kefu.db import make_engine, make_session_factory
from kefu.supervisor import service_env
from tests.faults.conftest import Faults
from tests.integration.test_dialogue_flow import PHONE, TICKET_RE, _answer
from tickets import TicketService

pytestmark = [pytest.mark.faults, pytest.mark.integration]


def _text(reply: dict[str, Any]) -> str:
    return "\n".join(str(m.get("text") or "") for m in reply["messages"])


def _rasa(
    faults: Faults, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> Any:
    env = service_env(faults.stack.settings)  # the stack's generated secrets, read back from var/secrets
    sep = "&" if "?" in path else "?"
    url = f"{faults.stack.settings.rasa_url}{path}{sep}token={env['KEFU_RASA_TOKEN']}"
    req = Request(url, data=None if body is None else json.dumps(body).encode(), method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Kefu-Channel-Secret", env["KEFU_RASA_CHANNEL_SECRET"])
    with urlopen(req, timeout=120) as response:
        return json.loads(response.read() or b"null")


def test_a_confirmation_replayed_after_rasa_lost_the_turn_opens_one_ticket(faults: Faults) -> None:
    stack = faults.stack
    cid = stack.new_conversation()
    reply = stack.say(cid, "我家宽带断网了，帮我报修")
    for _ in range(8):
        said = _text(reply)
        if "请确认" in said:
            break
        answer = _answer(said)
        assert answer is not None, f"unexpected bot question: {said}"
        reply = stack.say(cid, answer)
    assert "请确认" in _text(reply), _text(reply)
    # What Rasa reloads if it dies during the next turn: it saves a turn only when the turn ends.
    before_turn = _rasa(faults, "GET", f"/conversations/{cid}/tracker")["events"]

    first = TICKET_RE.search(_text(stack.say(cid, "确认")))
    assert first, "no ticket number after confirming"

    _rasa(faults, "PUT", f"/conversations/{cid}/tracker/events", before_turn)  # the turn is lost
    replayed = _rasa(faults, "POST", "/webhooks/gateway/webhook", {"sender": cid, "message": "确认"})
    again = TICKET_RE.search("\n".join(str(m.get("text") or "") for m in replayed))
    assert again and again.group(0) == first.group(0), replayed  # the first ticket, not a new one

    engine = make_engine(stack.settings.database_url)
    try:
        tickets = TicketService(make_session_factory(engine)).list_for_customer(PHONE)
    finally:
        engine.dispose()
    assert [t.id for t in tickets if t.conversation_id == cid] == [first.group(0)]
