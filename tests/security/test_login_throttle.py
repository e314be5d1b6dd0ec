"""Finding 9: sign-in throttling is atomic, ignores a made-up X-Forwarded-For, stops spraying
across usernames, and every failed sign-in is in the audit log.

Run against the gateway as `make run` starts it (uvicorn flags from ``kefu.supervisor``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from kefu.db import make_engine, make_session_factory
from tests.security.public_gateway import FAILURES_PER_IP, PASSWORD, GatewayProcess, client_from
from tests.security.public_gateway import gateway_process as gateway_process

pytestmark = pytest.mark.integration
LOGIN = "/api/agent/login"
MAX_ATTEMPTS = 5  # KEFU_AUTH_MAX_LOGIN_ATTEMPTS default


def _login(
    ip: str, url: str, username: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    with client_from(ip) as client:
        return client.post(url + LOGIN, json={"username": username, "password": password}, headers=headers)


def _audit(gateway: GatewayProcess) -> list[tuple[str, str, str | None]]:
    from gateway.agents.audit import AuditLog

    engine = make_engine(gateway.database_url)
    try:
        rows = AuditLog(make_session_factory(engine)).recent(limit=500)
        return [(r.actor, r.action, r.ip) for r in rows]
    finally:
        engine.dispose()


def test_twelve_parallel_wrong_passwords_check_only_the_allowed_number(
    gateway_process: GatewayProcess,
) -> None:
    with ThreadPoolExecutor(12) as pool:
        statuses = list(
            pool.map(
                lambda n: _login("127.0.0.2", gateway_process.url, "wang", f"wrong-{n}").status_code,
                range(12),
            )
        )
    assert statuses.count(401) == MAX_ATTEMPTS
    assert statuses.count(429) == 12 - MAX_ATTEMPTS
    locked = _login("127.0.0.2", gateway_process.url, "wang", PASSWORD)  # even the right password now waits
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    actions = [a for actor, a, ip in _audit(gateway_process) if actor == "wang" and ip == "127.0.0.2"]
    assert actions.count("login_failed") == MAX_ATTEMPTS
    assert actions.count("login_locked") == 12 - MAX_ATTEMPTS + 1


def test_a_made_up_x_forwarded_for_does_not_escape_the_lock(gateway_process: GatewayProcess) -> None:
    # From 127.0.0.1: the address uvicorn trusts proxy headers from unless told otherwise.
    for n in range(MAX_ATTEMPTS):
        forged = {"X-Forwarded-For": f"10.0.0.{n}"}
        assert _login("127.0.0.1", gateway_process.url, "zhao", "wrong", forged).status_code == 401
    escaped = _login("127.0.0.1", gateway_process.url, "zhao", PASSWORD, {"X-Forwarded-For": "203.0.113.7"})
    assert escaped.status_code == 429
    assert {ip for actor, _, ip in _audit(gateway_process) if actor == "zhao"} == {"127.0.0.1"}


def test_spraying_across_usernames_is_throttled_per_ip(gateway_process: GatewayProcess) -> None:
    n_users = FAILURES_PER_IP + 3
    sprayed = [_login("127.0.0.4", gateway_process.url, f"user{n}", "Spring2026!") for n in range(n_users)]
    statuses = [r.status_code for r in sprayed]
    assert statuses[:FAILURES_PER_IP] == [401] * FAILURES_PER_IP  # KEFU_AUTH_MAX_LOGIN_FAILURES_PER_IP
    assert set(statuses[FAILURES_PER_IP:]) == {429}
    failed = {
        a for a, action, ip in _audit(gateway_process) if action == "login_failed" and ip == "127.0.0.4"
    }
    assert failed == {f"user{n}" for n in range(FAILURES_PER_IP)}
    # Another address is not locked out by this one.
    assert _login("127.0.0.5", gateway_process.url, "wang", PASSWORD).status_code == 200
