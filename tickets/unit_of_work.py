"""Serialised write transactions and per-day ids, on SQLite and PostgreSQL alike.

Every write runs in one transaction that serialises writers (``BEGIN IMMEDIATE`` on SQLite, row and
advisory locks on PostgreSQL) and is retried on contention, so parallel writers never share an id or
lose an update.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from tickets.models import TicketSequence

T = TypeVar("T")
_RETRIES = 12


class UnitOfWork:
    """Opens sessions on one database: ``read()`` for queries, ``write(work)`` for serialised changes."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def read(self) -> Session:
        """A plain session for reading (use as a context manager)."""
        return self._factory()

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one serialised transaction, retrying on lock contention or a lost race."""
        for attempt in range(_RETRIES):
            session = self._factory()
            try:
                if session.get_bind().dialect.name == "sqlite":
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                result = work(session)
                session.commit()
                return result
            except (StaleDataError, IntegrityError, OperationalError) as exc:
                session.rollback()
                if attempt == _RETRIES - 1 or not _retryable(exc):
                    raise
                time.sleep(min(0.02 * (2**attempt), 0.5))
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        raise AssertionError("unreachable")


def lock_key(session: Session, key: str) -> None:
    """Serialise writers of one key on PostgreSQL (SQLite already runs writers one at a time)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def next_id(session: Session, scope: str, width: int) -> str:
    """The next id in ``scope`` (such as ``TK20261201``): ``TK20261201-0001``, ``-0002``, …"""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(TicketSequence)
        .values(scope=scope, n=1)
        .on_conflict_do_update(index_elements=["scope"], set_={"n": TicketSequence.n + 1})
        .returning(TicketSequence.n)
    )
    n = session.execute(stmt).scalar_one()
    return f"{scope}-{n:0{width}d}"


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, StaleDataError | IntegrityError):
        return True
    message = str(exc).lower()
    return any(word in message for word in ("locked", "deadlock", "could not serialize", "busy"))
