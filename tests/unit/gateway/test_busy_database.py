"""A database still locked after the writers' retries answers 503 with Retry-After, not 500."""

from __future__ import annotations

import sqlite3

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from gateway.errors import install_error_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/locked")
    def locked() -> None:
        raise OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))

    @app.post("/broken")
    def broken() -> None:
        raise RuntimeError("boom")

    return app


def test_a_locked_database_is_a_busy_answer_with_retry_after() -> None:
    with TestClient(_app(), raise_server_exceptions=False) as client:
        answer = client.post("/locked")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "2"
    assert answer.json()["error"]["code"] == "database_busy"
    assert "系统繁忙" in answer.json()["error"]["message"]


def test_any_other_failure_stays_an_internal_error() -> None:
    with TestClient(_app(), raise_server_exceptions=False) as client:
        answer = client.post("/broken")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
