"""The agents' tools as plain modules on a real SQLite database: canned responses and their
variables, labels, notes, transcripts, availability, and the auto-assignment plan."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gateway.agents.actor import Actor, Conflict, Forbidden, Invalid
from gateway.agents.assignment import Candidate, plan
from gateway.agents.availability import Availability
from gateway.agents.canned import CannedContext, CannedResponses, render, variables_in
from gateway.agents.labels import Labels, clean_label
from gateway.agents.notes import Notes
from gateway.agents.transcripts import export
from gateway.conversations import ConversationInfo, StoredMessage
from kefu.db import make_engine, make_session_factory, upgrade_database

AGENT, SUPERVISOR = Actor("wang", "agent"), Actor("zhao", "supervisor")
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    upgrade_database(url)
    return make_session_factory(make_engine(url))


def conversation(cid: str, *, priority: int = 0, queued_minutes_ago: int = 0) -> ConversationInfo:
    queued = T0 - timedelta(minutes=queued_minutes_ago)
    return ConversationInfo(
        cid, "web", None, "queue", None, "request_human", queued, priority, 3, queued, queued
    )


def test_canned_body_variables_are_filled_and_unknown_ones_refused() -> None:
    context = CannedContext(phone_masked="138****5678", ticket_id=None, agent_name="小王")
    rendered = render("{agent}为您查询尾号{phone}，工单{ticket}", context)
    assert rendered.text == "小王为您查询尾号138****5678，工单（暂无工单）"
    assert rendered.missing == ("ticket",)
    assert variables_in("无变量") == []
    with pytest.raises(Invalid, match="Unknown variable"):
        variables_in("{id_card}")
    with pytest.raises(Invalid, match="Unbalanced"):
        variables_in("{phone")


def test_only_supervisors_write_canned_responses_and_shortcuts_are_unique(
    sessions: sessionmaker[Session],
) -> None:
    canned = CannedResponses(sessions)
    with pytest.raises(Forbidden):
        canned.create(AGENT, shortcut="/退费", title="退费", body="退费说明")
    made = canned.create(SUPERVISOR, shortcut="退费", title="退费", body="退费说明")
    assert made.shortcut == "/退费"  # the slash is added
    with pytest.raises(Conflict):
        canned.create(SUPERVISOR, shortcut="/退费", title="又一个", body="x")
    with pytest.raises(Invalid):
        canned.create(SUPERVISOR, shortcut="/有 空格", title="x", body="x")
    canned.create(SUPERVISOR, shortcut="/查话费", title="查话费", body="话费")
    assert [c.shortcut for c in canned.list("/退")] == ["/退费"]
    assert [c.shortcut for c in canned.list()] == ["/查话费", "/退费"]  # by code point
    assert canned.list("%") == []  # a LIKE wildcard is a character, not a pattern


def test_labels_are_kept_once_per_target_and_counted_by_kind(sessions: sessionmaker[Session]) -> None:
    labels = Labels(sessions)
    assert labels.add("conversation", "c1", " 退费 ", "wang") is True
    assert labels.add("conversation", "c1", "退费", "li") is False
    labels.add("ticket", "TK1", "退费", "wang")
    labels.add("conversation", "c2", "VIP", "wang")
    assert labels.of("conversation", ["c1", "c2", "c3"]) == {"c1": ["退费"], "c2": ["VIP"]}
    assert labels.targets("ticket", "退费") == ["TK1"]
    assert labels.counts() == [
        {"label": "VIP", "conversations": 1, "tickets": 0},
        {"label": "退费", "conversations": 1, "tickets": 1},
    ]
    assert (
        labels.remove("conversation", "c1", "退费") is True
        and labels.remove("conversation", "c1", "退费") is False
    )
    for bad in ("", "a b", "x" * 21, "a,b"):
        with pytest.raises(Invalid):
            clean_label(bad)
    with pytest.raises(Invalid):
        labels.add("customer", "c1", "x", "wang")


def test_transcript_masks_for_agents_and_interleaves_notes_marked_internal(
    sessions: sessionmaker[Session],
) -> None:
    notes = Notes(sessions)
    with pytest.raises(Invalid):
        notes.add("c1", "wang", "   ")
    note = notes.add("c1", "wang", "回拨 13812345678")
    info = conversation("c1")
    messages = [
        StoredMessage(
            1, "customer", "我的号码 13812345678", created_at=note.created_at - timedelta(minutes=1)
        ),
        StoredMessage(2, "agent", "已为您登记", created_at=note.created_at + timedelta(minutes=1)),
    ]
    text = export(info, messages, notes.of("c1"), role="agent").content
    lines = text.splitlines()
    assert "客户：我的号码 138****5678" in lines[3]
    assert "【内部备注·wang】回拨 138****5678" in lines[4]
    assert "人工客服：已为您登记" in lines[5]
    assert "13812345678" not in text
    document = json.loads(export(info, messages, [], role="admin", fmt="json").content)
    assert document["masked"] is False and document["entries"][0]["text"] == "我的号码 13812345678"


def test_capacity_is_set_by_supervisors_and_defaults_from_settings(sessions: sessionmaker[Session]) -> None:
    availability = Availability(sessions, default_capacity=2)
    assert availability.of("wang").capacity == 2 and availability.of("wang").status == "online"
    with pytest.raises(Forbidden):
        availability.set_capacity(AGENT, "wang", 5)
    with pytest.raises(Invalid):
        availability.set_capacity(SUPERVISOR, "wang", 51)
    with pytest.raises(Invalid):
        availability.set_status(AGENT, "asleep")
    availability.set_capacity(SUPERVISOR, "wang", 4)
    availability.set_status(AGENT, "busy")
    view = availability.all(["wang", "li"])
    assert (view["wang"].status, view["wang"].capacity) == ("busy", 4)
    assert view["wang"].shown(connected=False)["status"] == "offline"
    availability.set_capacity(SUPERVISOR, "wang", None)
    assert availability.of("wang").capacity == 2 and availability.of("wang").status == "busy"


def test_plan_serves_highest_priority_then_longest_waiting_within_capacity() -> None:
    queue = [
        conversation("new", queued_minutes_ago=1),
        conversation("old", queued_minutes_ago=9),
        conversation("complaint", priority=20, queued_minutes_ago=0),
        conversation("middle", queued_minutes_ago=5),
    ]
    agents = [Candidate("wang", "agent", load=1, capacity=2), Candidate("li", "agent", load=0, capacity=2)]
    given = [(cid, who.username) for cid, who in plan(queue, agents)]
    # li has the most room, then both are at half, then wang is full.
    assert given == [("complaint", "li"), ("old", "li"), ("middle", "wang")]
    assert plan(queue, [Candidate("wang", "agent", load=3, capacity=3)]) == []
    assert plan([], agents) == []
