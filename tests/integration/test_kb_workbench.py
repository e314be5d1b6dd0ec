"""The KB workbench on the real stack: the gaps list is built from what customers really got, hit
testing runs on the live index, only supervisors and admins get in, and every action is audited.

Reads the product's index; nothing here rebuilds it (the rebuild is driven in tests/e2e on an index
of its own).
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.kb_gaps import question_key
from retrieval.replies import HELPFUL_QUESTION
from tests.conftest import LiveStack
from tests.staff_accounts import create_staff

pytestmark = pytest.mark.integration
PASSWORD = "Kefu-kb-gaps-2025"
BENCH = "/api/kb/workbench"


def _sign_in(stack: LiveStack, username: str, role: str) -> dict[str, str]:
    create_staff(stack.settings.database_url, username, PASSWORD, role)
    status, body = stack.request("POST", "/api/agent/login", {"username": username, "password": PASSWORD})
    assert status == 200, body
    return {"Authorization": f"Bearer {body['token']}"}


def _texts(reply: dict[str, Any]) -> list[str]:
    return [str(m.get("text") or "") for m in reply["messages"]]


def test_gaps_come_from_real_conversations_and_actions_are_audited(live_stack: LiveStack) -> None:
    lead = _sign_in(live_stack, "kb_lead", "supervisor")
    agent = _sign_in(live_stack, "kb_agent", "agent")

    # Two customers get an answer about repair times and press 「没解决」 (one asks with a question mark).
    for question in ("宽带坏了多久能修好", "宽带坏了多久能修好？"):
        cid = live_stack.new_conversation()
        assert HELPFUL_QUESTION in _texts(live_stack.say(cid, question))
        live_stack.say(cid, "/deny")
    # (No-answer replies are counted the same way: tests/unit/gateway/test_kb_gaps.py. Which question
    # gets that reply rather than the NLU's clarifying buttons depends on the trained model.)

    status, body = live_stack.request("GET", BENCH + "/gaps?days=1", headers=lead)
    assert status == 200, body
    gaps = {question_key(g["question"]): g for g in body["items"]}  # either wording may be shown
    repair = gaps["宽带坏了多久能修好"]
    assert (repair["not_solved"], repair["no_answer"]) == (2, 0) and repair["sections"]

    # Hit testing on the live index: ranked passages with their three scores and the gate.
    status, hit = live_stack.request("POST", BENCH + "/hit-test", {"query": "办新号要带什么证件"}, lead)
    assert status == 200, hit
    assert hit["gate"]["would_answer"] and hit["answer"] and hit["passages"][0]["section"].startswith("1.")
    assert {"dense", "bm25", "fused"} <= set(hit["passages"][0])
    status, docs = live_stack.request("GET", BENCH + "/documents", headers=lead)
    assert status == 200 and any(d["kind"] == "guide" and d["chunks"] > 0 for d in docs["items"])

    # Agents are kept out; an upload with the wrong content is refused and audited.
    for method, path in (("GET", "/gaps"), ("GET", "/documents"), ("POST", "/rollback")):
        assert live_stack.request(method, BENCH + path, headers=agent)[0] == 403
    assert live_stack.request("GET", BENCH + "/gaps")[0] == 401
    status, audit = live_stack.request("GET", "/api/agent/audit?agent=kb_lead", headers=lead)
    assert status == 200
    assert "kb_hit_test" in [e["action"] for e in audit["items"]]
