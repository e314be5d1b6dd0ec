"""The gateway's public surface, started for real on loopback for the security tests.

``public_stack`` is the in-process uvicorn gateway of the channel tests (stand-in Rasa and
platforms) with the limits a test asks for. ``gateway_process`` runs the gateway exactly as
``kefu.supervisor`` starts it (same argv: proxy headers off), for what depends on uvicorn's flags.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kefu.db import make_engine, make_session_factory, upgrade_database
from kefu.settings import CommonSettings
from kefu.supervisor import build_services, service_env
from tests.conftest import free_port
from tests.integration.channel_fixtures import ChannelStack, start_stack

PASSWORD = "correct-horse-9"
TICKETS_TOKEN = "tickets-token-0123456789"


def start_public_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[ChannelStack]:
    """A real gateway whose ``KEFU_*`` settings are ``env`` (e.g. ``RATE_CONVERSATIONS_PER_IP_HOUR="3"``)."""
    monkeypatch.setenv("KEFU_HANDOFF_WORKING_HOURS", "00:00-24:00")
    for key, value in env.items():
        monkeypatch.setenv(f"KEFU_{key}", value)
    yield from start_stack(tmp_path, monkeypatch)


class Customer:
    """A web-chat customer: opens a conversation and sends its token, as chat.js does."""

    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self.http = client or httpx.Client(base_url=base_url, timeout=30)
        created = self.http.post("/api/conversations")
        assert created.status_code == 201, created.text
        self.id = str(created.json()["conversation_id"])
        self.token = str(created.json()["customer_token"])
        self.headers = {"X-Customer-Token": self.token}

    def say(self, text: Any, **extra: Any) -> httpx.Response:
        return self.http.post(
            f"/api/conversations/{self.id}/messages", json={"text": text, **extra}, headers=self.headers
        )

    def history(self, after: object = 0) -> httpx.Response:
        return self.http.get(
            f"/api/conversations/{self.id}/messages", params={"after": str(after)}, headers=self.headers
        )

    def ws_url(self, base_url: str, after: int = 0) -> str:
        return (
            base_url.replace("http://", "ws://")
            + f"/ws/conversations/{self.id}?after={after}&token={self.token}"
        )


def create_agent(database_url: str, username: str, role: str = "agent") -> None:
    from gateway.agents.auth import AgentDirectory

    engine = make_engine(database_url)
    try:
        AgentDirectory(make_session_factory(engine)).create(username, PASSWORD, role=role)
    finally:
        engine.dispose()


@dataclass
class GatewayProcess:
    url: str
    database_url: str


# Fewer than the default 20, so the spraying test needs fewer slow (argon2) password checks.
FAILURES_PER_IP = 8


def client_from(ip: str) -> httpx.Client:
    """An HTTP client whose requests come from another loopback address (its own rate limits)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=ip), timeout=60)


@pytest.fixture(scope="module")
def gateway_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """The gateway as `make run` starts it (its argv from ``kefu.supervisor``), with two agents.

    Tests that sign in share it: each sends from its own loopback address (``client_from``).
    """
    tmp_path = tmp_path_factory.mktemp("gateway-process")
    settings = CommonSettings(
        var_dir=tmp_path,
        rasa_url=f"http://127.0.0.1:{free_port()}",  # no bot: sign-in does not need one
        action_server_url=f"http://127.0.0.1:{free_port()}",
        gateway_port=free_port(),
    )
    upgrade_database(settings.database_url)
    create_agent(settings.database_url, "wang")
    create_agent(settings.database_url, "zhao", role="supervisor")
    [gateway] = [s for s in build_services(settings) if s.name == "gateway"]
    env = service_env(settings)
    env.update(
        {
            "KEFU_LOAD_KNOWLEDGE_BASE": "false",
            # Agents answer around the clock here, whatever the hour CI runs (after hours is tested apart).
            "KEFU_HANDOFF_WORKING_HOURS": "00:00-24:00",
            "KEFU_TICKETS_API_TOKEN": TICKETS_TOKEN,
            "KEFU_AUTH_MAX_LOGIN_FAILURES_PER_IP": str(FAILURES_PER_IP),
        }
    )
    env.pop("FORWARDED_ALLOW_IPS", None)
    log = (tmp_path / "gateway.log").open("wb")
    proc = subprocess.Popen(gateway.argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=os.getcwd())
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(settings.gateway_url + "/healthz", timeout=2).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "gateway.log").read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        yield GatewayProcess(settings.gateway_url, settings.database_url)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
