"""The hourly roll-ups agree with the stored events, to the count, across hour, day and channel
boundaries, with the roll-ups reaching into the middle of a report period; refreshing again
counts nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.models import Conversation, Message
from gateway.reports import Reports, rollups
from gateway.reports.models import BotTurn, ReportRollup
from kefu.db import make_engine, make_session_factory, session_scope, upgrade_database

# Local midnight of 2026-11-30 (Asia/Shanghai) is 16:00 UTC on 11-29.
MIDNIGHT = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)
US = timedelta(microseconds=1)
S = timedelta(seconds=1)
H = timedelta(hours=1)
DAYS = ("2026-11-29", "2026-11-30", "2026-12-01")
# (conversation, channel, start, [(sender, offset)], [(intent, kb, offset)])
HISTORY = [
    # Last microsecond of 11-29 (local): its messages spill into 11-30.
    ("a", "web", MIDNIGHT - US, [("customer", 0 * S), ("bot", 2 * S)], [("faq_question", True, S)]),
    # A KB answer just before midnight, the 「没解决」 just after: counts on 11-30.
    ("b", "web", MIDNIGHT - 3 * S, [("customer", 0 * S)],
     [("faq_question", True, 0 * S), ("deny", False, 4 * S)]),
    ("c", "telegram", MIDNIGHT, [("customer", 0 * S), ("agent", 59 * 60 * S)], [("nlu_fallback", False, S)]),
    # On the hour, at the end of an hour, in the hour the roll-ups stop at, and after it.
    ("d", "wechat", MIDNIGHT + 5 * H, [("customer", 0 * S)], [("deny", False, S)]),
    ("e", "web", MIDNIGHT + 6 * H - US, [("customer", 0 * S), ("bot", US)], [("ask_tariff", False, US)]),
    ("f", "web", MIDNIGHT + 9 * H + 30 * 60 * S, [("customer", 0 * S)], [("faq_question", True, 0 * S)]),
    ("g", "wechat", MIDNIGHT + 12 * H, [("customer", 0 * S)], [("deny", False, S)]),
    ("h", "telegram", MIDNIGHT + 30 * H, [("customer", 0 * S)], [("greet", False, S)]),
]  # fmt: skip
# The roll-ups reach 09:00 local on 11-30: the hour 09:00–10:00 closed 5 min ago, not yet settled.
CLOCK = MIDNIGHT + 10 * H + 5 * 60 * S


def build(factory: sessionmaker[Session], history: list[tuple[object, ...]]) -> None:
    with session_scope(factory) as s:
        for cid, channel, at, messages, turns in history:
            assert isinstance(at, datetime) and isinstance(messages, list) and isinstance(turns, list)
            s.add(Conversation(id=cid, channel=channel, created_at=at, last_activity_at=at))
            s.flush()
            for seq, (sender, offset) in enumerate(messages, start=1):
                s.add(Message(conversation_id=cid, seq=seq, sender=sender, text="…", created_at=at + offset))
            for intent, kb, offset in turns:
                turn = BotTurn(conversation_id=cid, channel=channel, at=at + offset, intent=intent)
                turn.kb_answer = kb
                s.add(turn)


@pytest.fixture
def factory(tmp_path: object) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path}/kefu.db"
    upgrade_database(url)
    made: sessionmaker[Session] = make_session_factory(make_engine(url))
    build(made, HISTORY)  # type: ignore[arg-type]
    return made


def periods(reports: Reports) -> list[tuple[datetime, datetime, str | None]]:
    out = []
    for first, last in ((DAYS[0], DAYS[0]), (DAYS[1], DAYS[1]), (DAYS[0], DAYS[1]), (DAYS[1], DAYS[2])):
        for channel in (None, "web", "telegram", "wechat"):
            q = reports.query(first, last, channel)
            out.append((q.start, q.end, channel))
    return out


def test_rolled_up_counts_equal_the_stored_events(factory: sessionmaker[Session]) -> None:
    reports = Reports(factory, clock=lambda: CLOCK)
    reports.refresh_rollups()
    with factory() as s:
        assert rollups.rolled_until(s) == MIDNIGHT + 9 * H
        for start, end, channel in periods(reports):
            assert rollups.counts(s, start, end, channel) == rollups.raw_counts(s, start, end, channel)
        # What 11-30 holds, exactly (UTC hour 16 is local 00:00).
        q = reports.query(DAYS[1], DAYS[1], None)
        day = rollups.counts(s, q.start, q.end, None)
    assert sum(n for (m, _, _), n in day.items() if m == "conversations") == 5  # c, d, e, f, g
    assert day[("messages", "", 16)] == 3  # a's bot reply, c's customer and agent (00:59)
    # d at 05:00 and e at 05:59:59.999999 local; e's bot reply a microsecond later, at 06:00
    assert (day[("messages", "", 21)], day[("messages", "", 22)]) == (2, 1)
    assert sum(n for (m, _, _), n in day.items() if m == "not_solved") == 1  # b: d and g had no KB answer
    assert sum(n for (m, _, _), n in day.items() if m == "kb_answers") == 2  # a (00:00:00.999999), f


def test_figures_are_the_same_with_and_without_roll_ups(factory: sessionmaker[Session]) -> None:
    reports = Reports(factory, clock=lambda: CLOCK)
    before = {p: [f.to_dict() for f in reports.all(reports.query(*p))] for p in _day_queries()}
    reports.refresh_rollups()
    after = {p: [f.to_dict() for f in reports.all(reports.query(*p))] for p in _day_queries()}
    assert after == before
    assert next(f for f in after[(DAYS[1], DAYS[1], None)] if f["name"] == "kb_answers")["summary"] == {
        "turns": 7,
        "kb_answers": 2,
        "kb_answer_rate": 0.2857,
        "not_solved": 1,
        "not_solved_rate": 0.5,
    }


def _day_queries() -> list[tuple[str, str, str | None]]:
    return [
        (DAYS[0], DAYS[2], None),
        (DAYS[1], DAYS[1], None),
        (DAYS[1], DAYS[1], "web"),
        (DAYS[1], DAYS[1], "wechat"),
    ]


def test_a_refresh_adds_only_newly_closed_hours(factory: sessionmaker[Session]) -> None:
    clock = [CLOCK]
    reports = Reports(factory, clock=lambda: clock[0])
    reports.refresh_rollups()
    reports.refresh_rollups()  # nothing new: nothing counted twice
    with factory() as s:
        rows = s.scalar(select(func.count()).select_from(ReportRollup))
    # Events after the roll-ups' reach; then the clock moves on a day and the job runs again.
    build(factory, [("i", "web", MIDNIGHT + 11 * H, [("customer", 0 * S)], [("deny", False, S)])])
    clock[0] = CLOCK + 24 * H
    reports.refresh_rollups()
    with factory() as s:
        assert (s.scalar(select(func.count()).select_from(ReportRollup)) or 0) > (rows or 0)
        assert rollups.rolled_until(s) == MIDNIGHT + 33 * H
        for start, end, channel in periods(reports):
            assert rollups.counts(s, start, end, channel) == rollups.raw_counts(s, start, end, channel)


def test_an_empty_database_has_nothing_to_roll_up(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/empty.db"
    upgrade_database(url)
    factory: sessionmaker[Session] = make_session_factory(make_engine(url))
    assert rollups.refresh(factory, CLOCK) is None
    with factory() as s:
        assert rollups.rolled_until(s) is None
