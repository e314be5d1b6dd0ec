"""Killing the Rasa replica that holds a conversation mid-form: the form goes on on the other one.

The replicas share the tracker store (PostgreSQL) and the lock store (Redis); the gateway pins
each conversation to one replica by consistent hashing (gateway.rasa_replicas).
"""

from __future__ import annotations

import json
import re

import pytest

from gateway.rasa_replicas import HashRing
from tests.cluster.conftest import REPLICAS
from tests.cluster.processes import kill, wait_back
from tests.conftest import LiveStack

pytestmark = pytest.mark.cluster

TICKET_RE = re.compile(r"TK\d{8}-\d+")


def _text(reply: dict[str, object]) -> str:
    return "\n".join(str(m["text"]) for m in reply["messages"])  # type: ignore[attr-defined]


def _owner(stack: LiveStack, conversation_id: str) -> str:
    """The supervisor's name of the replica the gateway sends this conversation to first."""
    urls = json.loads(stack.supervisor.env["KEFU_RASA_REPLICA_URLS"])
    first = HashRing(urls).preference(conversation_id)[0]
    return REPLICAS[urls.index(first)]


def test_conversations_are_spread_over_both_replicas(rasa_pair: LiveStack) -> None:
    owners = {_owner(rasa_pair, rasa_pair.new_conversation()) for _ in range(12)}
    assert owners == set(REPLICAS)


def test_killing_the_replica_of_a_conversation_mid_form_the_form_goes_on(rasa_pair: LiveStack) -> None:
    stack = rasa_pair
    cid = stack.new_conversation()
    first = _text(stack.say(cid, "我家宽带断网了，帮我报修"))
    assert "联系电话" in first or "手机号" in first, first

    owner = _owner(stack, cid)
    restarts_before = kill(stack, owner)

    # The other replica reads the form's state from the shared tracker store and asks the next slot.
    second = _text(stack.say(cid, "13800138000"))
    assert "什么故障" in second or "哪个区" in second or "什么时候" in second, second
    assert "联系电话" not in second and "抱歉" not in second, second

    # When the owner is back the conversation returns to it, state intact.
    wait_back(stack, owner, restarts_before)
    answers = {"什么故障": "宽带断网了", "哪个区": "海淀区中关村大街1号", "什么时候开始": "今天早上八点"}
    answers |= {"方便的时间": "明天上午", "请确认": "确认"}
    said = second
    for _ in range(8):
        if TICKET_RE.search(said) and "工单号" in said:
            break
        key = "请确认" if "请确认" in said else max((said.rfind(k), k) for k in answers if k in said)[1]
        said = _text(stack.say(cid, answers[key]))
    found = TICKET_RE.search(said)
    assert found and "工单号" in said, said

    history = stack.request("GET", f"/api/conversations/{cid}/messages")[1]["messages"]
    customer_texts = [m["text"] for m in history if m["sender"] == "customer"]
    assert customer_texts.count("13800138000") == 1  # nothing was sent twice
    assert sum(1 for m in history if m["sender"] == "bot" and "工单号" in str(m["text"])) == 1
