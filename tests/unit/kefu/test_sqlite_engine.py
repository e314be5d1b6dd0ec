"""SQLite engines: WAL with a durability level an operator chooses (``KEFU_SQLITE_SYNCHRONOUS``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from kefu.db import make_engine

# PRAGMA synchronous reads back as a number.
LEVELS = {"NORMAL": 1, "FULL": 2, "EXTRA": 3}


def _pragma(url: str, name: str) -> object:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"PRAGMA {name}")).scalar()
    finally:
        engine.dispose()


def test_a_sqlite_database_is_wal_with_normal_sync_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KEFU_SQLITE_SYNCHRONOUS", raising=False)
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    assert _pragma(url, "journal_mode") == "wal"
    assert _pragma(url, "synchronous") == LEVELS["NORMAL"]


@pytest.mark.parametrize("level", ["FULL", "extra"])
def test_an_operator_can_ask_for_a_disk_sync_on_every_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, level: str
) -> None:
    monkeypatch.setenv("KEFU_SQLITE_SYNCHRONOUS", level)
    assert _pragma(f"sqlite:///{tmp_path / 'kefu.db'}", "synchronous") == LEVELS[level.upper()]


def test_an_unknown_level_is_refused_with_the_allowed_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEFU_SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(ValueError, match="NORMAL, FULL or EXTRA"):
        make_engine(f"sqlite:///{tmp_path / 'kefu.db'}")
