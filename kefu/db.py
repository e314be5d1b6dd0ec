"""One SQLAlchemy base, engine factory and migration entry point for all kefu tables.

Every package that stores data (``tickets``, ``accounts``, ``gateway``) declares its
models on :class:`Base` and keeps its Alembic revisions in ``<package>/migrations``
as its own branch (``branch_labels``), so packages evolve their schema independently
and ``upgrade heads`` brings all of them up to date.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from kefu.settings import REPO_ROOT, get_common_settings

MIGRATION_PACKAGES = ("accounts", "tickets", "gateway")
log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def sqlite_busy_timeout_ms() -> int:
    """How long one SQLite statement waits for a lock (``KEFU_SQLITE_BUSY_TIMEOUT_MS``, default 2000).

    Short on purpose: a waiting statement holds one of the gateway's worker threads, so
    writers retry with :func:`retry_when_locked` (jittered) instead of waiting 30 s.
    """
    return int(os.environ.get("KEFU_SQLITE_BUSY_TIMEOUT_MS", "2000"))


def sqlite_synchronous() -> str:
    """SQLite's ``synchronous`` pragma (``KEFU_SQLITE_SYNCHRONOUS``, default ``NORMAL``).

    In WAL mode ``NORMAL`` syncs at checkpoints, not at every commit: a committed message survives a
    crash of any kefu process, and only an operating-system crash or power loss can take the last
    commits back. ``FULL`` syncs every commit, which made each stored chat message wait for the disk
    (the largest part of the gateway's time per message in the benchmark).
    """
    value = os.environ.get("KEFU_SQLITE_SYNCHRONOUS", "NORMAL").upper()
    if value not in ("NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"KEFU_SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA, not {value!r}")
    return value


def is_lock_error(exc: BaseException) -> bool:
    """SQLite's ``database is locked``/``busy`` (or a PostgreSQL deadlock/serialization failure)."""
    message = str(exc).lower()
    return isinstance(exc, OperationalError) and any(
        word in message for word in ("locked", "busy", "deadlock", "could not serialize")
    )


def retry_when_locked(
    attempts: int = 3, base_delay: float = 0.05
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Retry a whole unit of work (its own transaction) on lock contention, with jittered backoff.

    Worst case per call: ``attempts`` busy timeouts plus about a second of backoff; then the
    error reaches the caller (the gateway answers 503 "busy, retry", nothing half-written).
    """

    def decorate(work: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(work)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for attempt in range(1, attempts + 1):
                try:
                    return work(*args, **kwargs)
                except OperationalError as exc:
                    if attempt == attempts or not is_lock_error(exc):
                        raise
                    delay = base_delay * 2**attempt * (0.5 + random.random())
                    log.warning("%s: database locked (attempt %d/%d)", work.__qualname__, attempt, attempts)
                    time.sleep(delay)
            raise AssertionError("unreachable")

        return wrapper

    return decorate


class Base(DeclarativeBase):
    """Declarative base of every kefu table."""


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored in a kefu table")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite files get WAL, foreign keys and a busy timeout.

    WAL lets the gateway and the action server (two processes) read while the other
    writes; the (short) busy timeout turns brief lock contention into waiting, and
    writers retry longer contention (:func:`retry_when_locked`). SQLite is for one host;
    PostgreSQL is the production choice (``KEFU_DATABASE_URL=postgresql+psycopg://…``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        busy_ms, synchronous = sqlite_busy_timeout_ms(), sqlite_synchronous()
        kwargs.setdefault("connect_args", {"timeout": busy_ms / 1000, "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={busy_ms:d}")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def check_writable(factory: sessionmaker[Session]) -> None:
    """Raise unless the database would accept a write now (health checks; nothing is written).

    SQLite: take the write lock (``BEGIN IMMEDIATE``) and roll back, so a locked or read-only
    file fails within the busy timeout. Other backends: a round trip.
    """
    engine = factory.kw["bind"]
    if engine.dialect.name != "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("ROLLBACK")
        cursor.close()
    finally:
        raw.close()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(REPO_ROOT / "kefu" / "migrations"))
    locations = [
        str(REPO_ROOT / pkg / "migrations")
        for pkg in MIGRATION_PACKAGES
        if (REPO_ROOT / pkg / "migrations").is_dir()
    ]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(url: str | None = None) -> None:
    """Bring the database at ``url`` (default: settings) to the newest schema."""
    from alembic import command

    url = url or get_common_settings().database_url
    if make_url(url).get_backend_name() == "sqlite":
        make_engine(url).dispose()  # creates the parent folder and switches to WAL
    command.upgrade(alembic_config(url), "heads")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kefu.db", description=__doc__)
    parser.add_argument("command", choices=["upgrade"])
    parser.add_argument("--url", default=None, help="database URL (default: KEFU_DATABASE_URL)")
    args = parser.parse_args(argv)
    if args.command == "upgrade":
        upgrade_database(args.url)


if __name__ == "__main__":
    main()
