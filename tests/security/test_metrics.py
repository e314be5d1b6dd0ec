"""Who may read /metrics: the gateway's (token, else direct loopback only) and the action server's
(its service token). What it shows: route templates, never a raw path or a conversation id."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

import pytest
from fastapi.testclient import TestClient

from gateway.main import create_app
from gateway.settings import GatewaySettings
from kefu.settings import REPO_ROOT
from tests.conftest import free_port
from tests.customer_api import remember_customer_tokens

LOOPBACK = ("127.0.0.1", 50000)
OUTSIDE = ("203.0.113.7", 50000)
TOKEN = "metrics-token-for-the-test-0123456789"


def sample(text: str, series: str) -> float:
    """The value of one series in the exposition text (0 when it does not exist yet)."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def gateway(tmp_path: Path, client: tuple[str, int]) -> TestClient:
    settings = GatewaySettings(
        var_dir=tmp_path,
        rasa_url="http://127.0.0.1:9",  # the bot is down: the customer gets an apology
        action_server_url="http://127.0.0.1:9",
        load_knowledge_base=False,
        rasa_timeout_seconds=2,
    )
    return TestClient(create_app(settings), client=client)


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEFU_METRICS_TOKEN", raising=False)


@pytest.mark.usefixtures("no_token")
def test_without_a_token_only_direct_loopback_callers_read_metrics(tmp_path: Path) -> None:
    with gateway(tmp_path, LOOPBACK) as local:
        remember_customer_tokens(local)
        customer = 'kefu_messages_total{channel="web",sender="customer"}'
        before = sample(local.get("/metrics").text, customer)
        cid = local.post("/api/conversations").json()["conversation_id"]
        local.post(f"/api/conversations/{cid}/messages", json={"text": "你好"})
        body = local.get("/metrics")
        assert body.status_code == 200
        assert body.headers["content-type"].startswith("text/plain")
        text = body.text
        assert sample(text, customer) == before + 1  # the registry is the process's
        assert sample(text, 'kefu_rasa_errors_total{kind="unavailable"}') >= 1
        assert 'route="/api/conversations/{conversation_id}/messages"' in text
        assert cid not in text
        assert "kefu_queue_length 0.0" in text
        # Through a proxy on the same host the caller is not local.
        proxied = local.get("/metrics", headers={"X-Forwarded-For": "198.51.100.1"})
        assert proxied.status_code == 403
        assert proxied.json()["error"]["code"] == "metrics_local_only"
    with gateway(tmp_path, OUTSIDE) as remote:
        refused = remote.get("/metrics")
        assert refused.status_code == 403
        assert " / " in refused.json()["error"]["message"]


def test_with_a_token_every_caller_needs_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_METRICS_TOKEN", TOKEN)
    for client in (OUTSIDE, LOOPBACK):
        with gateway(tmp_path, client) as c:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                response = c.get("/metrics", headers=headers)
                assert response.status_code == 401, (client, headers)
            ok = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert ok.status_code == 200
            assert "kefu_http_request_duration_seconds_bucket" in ok.text


@pytest.fixture
def action_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "KEFU_VAR_DIR": str(tmp_path),
        "KEFU_ACTION_SERVER_TOKEN": TOKEN,
        "KEFU_ACTION_SERVER_URL": f"http://127.0.0.1:{port}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "actions.server"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urlopen(f"{url}/health", timeout=1):
                    break
            except (URLError, ConnectionError):
                time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_action_server_metrics_need_its_token(action_server: str) -> None:
    for path in ("/metrics", "/metrics?token=wrong"):
        with pytest.raises(HTTPError) as refused:
            urlopen(action_server + path, timeout=5)
        assert refused.value.code == 401
    unknown = b'{"next_action": "action_does_not_exist", "sender_id": "x", "tracker": {}, "domain": {}}'
    with pytest.raises(HTTPError):
        urlopen(f"{action_server}/webhook?token={TOKEN}", data=unknown, timeout=10)
    with urlopen(f"{action_server}/metrics?token={TOKEN}", timeout=5) as answer:
        text = answer.read().decode()
    assert 'kefu_action_runs_total{action="action_does_not_exist",outcome="not_found"} 1.0' in text
    assert 'kefu_action_errors_total{action="action_does_not_exist"} 1.0' in text
