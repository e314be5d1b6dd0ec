from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import Subscriber
from kefu.db import make_engine, make_session_factory, session_scope
from tariffs.catalogue import Catalogue

SAMPLE = Path(__file__).parents[1] / "tariffs" / "sample_tariffs.yml"


class Clock:
    """A settable clock, so expiry and lockout are tested without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def catalogue() -> Catalogue:
    return Catalogue.load(SAMPLE)


@pytest.fixture
def session_factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        session.add(
            Subscriber(
                phone="13800138000",
                name="张伟",
                id_last4="1234",
                plan_id="5g-129",
                balance_fen=8650,
                data_used_mb=1024 * 20,
                data_quota_mb=1024 * 80,
                minutes_used=300,
                minutes_quota=800,
                status="active",
                district="海淀区",
            )
        )
    yield factory
    engine.dispose()
