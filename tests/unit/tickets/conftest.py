"""Ticket tests run on a fresh database each: SQLite always, PostgreSQL too when ``pg_ctl`` exists."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from kefu.db import make_engine, make_session_factory, upgrade_database
from tests.unit.tickets.postgres import create_database, find_pg_bin, postgres_cluster
from tickets import TicketService
from tickets.calendar import WorkingCalendar
from tickets.settings import TicketSettings

# A Monday morning in Beijing (01:00 UTC = 09:00 +08:00), with no holiday that week.
MONDAY_9AM = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class Clock:
    """The service's notion of now, moved by tests instead of sleeping."""

    def __init__(self, now: datetime = MONDAY_9AM) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    if find_pg_bin() is None:
        pytest.fail("PostgreSQL server binaries (pg_ctl) not installed: apt-get install postgresql")
    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database: SQLite (WAL) file, or a new database on the test PostgreSQL cluster."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'kefu.db'}"
    else:
        url = create_database(request.getfixturevalue("pg_admin_url"))
    upgrade_database(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings() -> TicketSettings:
    return TicketSettings(incident_threshold=3, incident_window_minutes=60, duplicate_window_hours=168)


@pytest.fixture
def calendar(settings: TicketSettings) -> WorkingCalendar:
    return WorkingCalendar(settings.holidays, settings.makeup_workdays, settings.timezone)


@pytest.fixture
def service(
    engine: Engine, clock: Clock, settings: TicketSettings, calendar: WorkingCalendar
) -> TicketService:
    return TicketService(make_session_factory(engine), clock=clock, settings=settings, calendar=calendar)
