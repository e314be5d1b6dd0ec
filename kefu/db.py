"""One SQLAlchemy base, engine factory and migration entry point for all kefu tables.

Every package that stores data (``tickets``, ``accounts``, ``gateway``) declares its
models on :class:`Base` and keeps its Alembic revisions in ``<package>/migrations``
as its own branch (``branch_labels``), so packages evolve their schema independently
and ``upgrade heads`` brings all of them up to date.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from kefu.settings import REPO_ROOT, get_common_settings

MIGRATION_PACKAGES = ("accounts", "tickets", "gateway")


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
    writes; the busy timeout turns lock contention into waiting instead of errors.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
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
