"""Hourly roll-ups of the additive conversation counts, per channel, kept up to date by a job.

Why: a 30-day report over 100,000 conversations scanned ~130k messages and ~60k bot turns on
every request (seconds on SQLite, docs/bench_reports.md). Conversations, messages and bot turns
are stamped with the time they are stored, so an hour that has closed never changes: each closed
UTC hour is counted once, by GROUP BY over the stored rows, into ``gateway_report_rollup``, and a
report adds the rows of its rolled hours to a raw count of the rest (the open hours, or all of a
period that does not start and end on whole hours). The gateway's ``report_rollups`` job rolls
up the hours that closed every ``KEFU_REPORTS_ROLLUP_INTERVAL_SECONDS``; the numbers are the raw
ones either way: ``tests/unit/reports/test_rollups.py`` holds the two paths equal across hour, day and channel
boundaries. Handoffs and tickets are read raw: they change after their hour (a claim, a breach)
and percentiles need every value.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased, sessionmaker

from gateway.models import Conversation, Message
from gateway.reports.models import DENY_INTENT, BotTurn, ReportRollup, RollupState
from kefu.db import is_lock_error, session_scope

log = logging.getLogger(__name__)

# An hour is rolled up only this long after it ended: a row stamped just before the hour closed
# may still be committing.
SETTLE = timedelta(minutes=10)
HOUR = timedelta(hours=1)
STATE_ID = 1
WINDOW = timedelta(days=7)

# (metric, key, UTC hour of day) -> count
Counts = Counter[tuple[str, str, int]]
Bucket = Callable[[Any], ColumnElement[Any]]


def floor_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _on_hours(at: datetime) -> bool:
    return at == floor_hour(at)


def _not_solved(turn: Any) -> ColumnElement[bool]:
    """A deny turn (the 「没解决」 button) whose previous turn in the conversation quoted the KB."""
    before = aliased(BotTurn)
    previous_kb = (
        select(before.kb_answer)
        .where(before.conversation_id == turn.conversation_id, before.id < turn.id)
        .order_by(before.id.desc())
        .limit(1)
        .correlate(turn)
        .scalar_subquery()
    )
    return and_(turn.intent == DENY_INTENT, previous_kb.is_(True))


def _event_queries(
    start: datetime | None, end: datetime, channel: str | None, bucket: Bucket, by_channel: bool
) -> Iterable[tuple[str, bool, Select[Any]]]:
    """(metric, has a key column, query) over the stored events in ``[start, end)``.

    Each query's columns: [channel,] [key,] bucket, count."""

    def where(stmt: Select[Any], at: Any, chan: Any) -> Select[Any]:
        stmt = stmt.where(at < end)
        if start is not None:
            stmt = stmt.where(at >= start)
        return stmt.where(chan == channel) if channel else stmt

    def shape(chan: Any, at: Any, *key: Any) -> list[Any]:
        return [*([chan] if by_channel else []), *key, bucket(at)]

    c = Conversation
    cols = shape(c.channel, c.created_at)
    yield "conversations", False, where(select(*cols, func.count()), c.created_at, c.channel).group_by(*cols)
    m = Message
    cols = shape(c.channel, m.created_at)
    stmt = select(*cols, func.count()).select_from(m)
    if by_channel or channel:  # a message's channel is its conversation's
        stmt = stmt.join(c, c.id == m.conversation_id)
    yield "messages", False, where(stmt, m.created_at, c.channel).group_by(*cols)
    t = BotTurn
    cols = shape(t.channel, t.at)
    yield "turns", False, where(select(*cols, func.count()), t.at, t.channel).group_by(*cols)
    stmt = select(*cols, func.count()).where(t.kb_answer.is_(True))
    yield "kb_answers", False, where(stmt, t.at, t.channel).group_by(*cols)
    turn = aliased(BotTurn)
    cols = shape(turn.channel, turn.at)
    stmt = select(*cols, func.count()).where(_not_solved(turn))
    yield "not_solved", False, where(stmt, turn.at, turn.channel).group_by(*cols)
    cols = shape(t.channel, t.at, t.intent)
    stmt = select(*cols, func.count()).where(t.intent.is_not(None))
    yield "intent", True, where(stmt, t.at, t.channel).group_by(*cols)


def _hour_of_day(column: Any) -> ColumnElement[Any]:
    return func.extract("hour", column)


def raw_counts(session: Session, start: datetime, end: datetime, channel: str | None) -> Counts:
    """The counts straight from the stored events."""
    counts: Counts = Counter()
    for metric, keyed, stmt in _event_queries(start, end, channel, _hour_of_day, by_channel=False):
        for row in session.execute(stmt).all():
            key, hour, n = (row[0], row[1], row[2]) if keyed else ("", row[0], row[1])
            counts[(metric, str(key), int(hour))] += int(n)
    return counts


def rolled_counts(session: Session, start: datetime, end: datetime, channel: str | None) -> Counts:
    r = ReportRollup
    hour = _hour_of_day(r.hour)
    stmt = select(r.metric, r.key, hour, func.sum(r.count)).where(r.hour >= start, r.hour < end)
    if channel:
        stmt = stmt.where(r.channel == channel)
    counts: Counts = Counter()
    for metric, key, h, n in session.execute(stmt.group_by(r.metric, r.key, hour)).all():
        counts[(str(metric), str(key), int(h))] += int(n)
    return counts


def rolled_until(session: Session) -> datetime | None:
    state = session.get(RollupState, STATE_ID)
    return state.rolled_until if state else None


def counts(session: Session, start: datetime, end: datetime, channel: str | None) -> Counts:
    """Roll-up rows for the rolled whole hours of ``[start, end)``, raw counts for the rest."""
    until = rolled_until(session)
    if until is None or not (_on_hours(start) and _on_hours(end)) or start >= until:
        return raw_counts(session, start, end, channel)
    middle = min(end, until)
    total = rolled_counts(session, start, middle, channel)
    if middle < end:
        total.update(raw_counts(session, middle, end, channel))
    return total


def _hour_bucket(dialect: str) -> Bucket:
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
        return lambda column: func.substr(column, 1, 13)
    return lambda column: func.date_trunc("hour", column)


def _as_hour(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC)
    hour: datetime = value
    return hour.replace(tzinfo=UTC) if hour.tzinfo is None else hour.astimezone(UTC)


def _insert(session: Session, dialect: str, rows: list[dict[str, Any]]) -> None:
    """Rows another process rolled up meanwhile are the same numbers: keep theirs."""
    maker = sqlite.insert if dialect == "sqlite" else postgresql.insert
    if rows:  # one statement, many parameter sets (executemany)
        session.execute(maker(ReportRollup).on_conflict_do_nothing(), rows)


def _first_event(session: Session) -> datetime | None:
    firsts = [
        session.scalar(select(func.min(column)))
        for column in (Conversation.created_at, Message.created_at, BotTurn.at)
    ]
    known = [f for f in firsts if f is not None]
    return floor_hour(min(known)) if known else None


def _roll_up(session: Session, since: datetime, upto: datetime) -> None:
    dialect = session.get_bind().dialect.name
    rows: list[dict[str, Any]] = []
    for metric, keyed, stmt in _event_queries(since, upto, None, _hour_bucket(dialect), by_channel=True):
        for row in session.execute(stmt).all():
            channel, key, hour, n = row if keyed else (row[0], "", row[1], row[2])
            hour_at = _as_hour(hour)
            rows.append({"hour": hour_at, "channel": channel, "metric": metric, "key": key, "count": n})
    _insert(session, dialect, rows)
    state = session.get(RollupState, STATE_ID)
    if state is None:
        session.add(RollupState(id=STATE_ID, rolled_until=upto))
    elif state.rolled_until < upto:
        state.rolled_until = upto


def refresh(factory: sessionmaker[Session], now: datetime) -> datetime | None:
    """Roll up every hour that closed (and settled) since the last refresh; returns the new reach.

    A week per transaction, so the first refresh over a long history never holds the write lock
    for long (the reports read meanwhile count the hours not yet rolled up raw)."""
    upto = floor_hour(now - SETTLE)
    with factory() as session:
        since = rolled_until(session) or _first_event(session)
    if since is None:  # no events yet: nothing to roll up, nothing to remember
        return None
    while since < upto:
        step = min(upto, since + WINDOW)
        with session_scope(factory) as session:
            _roll_up(session, since, step)
        since = step
    return since


def refresh_quietly(factory: sessionmaker[Session], now: datetime) -> None:
    """Refresh, or leave it to the next report: the figures stay exact without it (the hours not
    rolled up are counted raw), so a busy database does not delay or fail the report."""
    try:
        refresh(factory, now)
    except IntegrityError:  # another process's first refresh won the race: it did the work
        pass
    except OperationalError as exc:
        if not is_lock_error(exc):
            raise
        log.info("report roll-ups not refreshed: database busy")
