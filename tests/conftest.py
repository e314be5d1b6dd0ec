"""Shared fixtures: a fresh database per test, and the real three-service stack on loopback."""

from __future__ import annotations

import gc
import json
import os
import socket
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

import pytest

from accounts.seed import seed_demo_accounts
from kefu.cluster import loopback_settings
from kefu.db import upgrade_database
from kefu.settings import REPO_ROOT, CommonSettings
from kefu.supervisor import Service, Supervisor, build_services, service_env

if TYPE_CHECKING:  # imported in the fixtures: nothing heavy at collection
    from retrieval.knowledge_base import KnowledgeBase
    from retrieval.settings import RetrievalSettings

MODEL = REPO_ROOT / "models" / "kefu.tar.gz"
INDEX_DIR = Path(os.environ.get("KEFU_KB_INDEX_DIR", REPO_ROOT / "var" / "index"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """No garbage collection while a failure is formatted.

    Python 3.11.7 keeps the AST builder's recursion counter in global state (CPython gh-106905,
    fixed in 3.11.8). pytest parses the whole source of every traceback entry (Playwright's
    generated API is ~15k lines); a full collection in the middle can finalize an abandoned
    asyncio coroutine, whose "Exception ignored" traceback pytest formats at once, and
    traceback's caret anchors parse again. The outer parse then ends in "SystemError: AST
    constructor recursion depth mismatch" and pytest's reporter dies (the agent-tools walk in
    the stop-20 rehearsal). Reproduced with a failing call into a large module plus cyclic
    garbage whose finaliser raises; with this wrapper the failure is reported normally.
    """
    with _no_garbage_collection():
        return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Generator[None, None, None]:
    """The same hazard at the end: the terminal summary imports (and assertion-rewrites, so parses)
    modules a run did not use, e.g. hypothesis for its plugin's summary, while abandoned coroutines
    wait for a collection (a 22-test run of faults and channels died there). Collect first, at the
    top level, then none until the summary is written."""
    gc.collect()
    with _no_garbage_collection():
        return (yield)


@contextmanager
def _no_garbage_collection() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def real_index() -> RetrievalSettings:
    """The settings of the real retrieval index (var/index); a missing or stale one fails the test."""
    from retrieval.index_store import is_up_to_date
    from retrieval.settings import RetrievalSettings

    settings = RetrievalSettings()
    if not is_up_to_date(settings):
        pytest.fail(
            f"retrieval index in {settings.index_dir} missing or stale: run `make index` "
            "(`make pytest` depends on it)"
        )
    return settings


@pytest.fixture(scope="session")
def real_kb(real_index: RetrievalSettings) -> KnowledgeBase:
    """The knowledge base over the real index and the real m3e model, loaded once per session."""
    from retrieval.knowledge_base import KnowledgeBase

    return KnowledgeBase(real_index)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh, fully migrated SQLite database for one test."""
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    upgrade_database(url)
    return url


@dataclass
class LiveStack:
    """Rasa, the action server and the gateway, started for real on free loopback ports."""

    supervisor: Supervisor
    settings: CommonSettings
    var_dir: Path
    # conversation id -> its customer token (sent with every customer call on it)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.settings.gateway_url

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        cid = (
            path.split("/api/conversations/", 1)[-1].split("/", 1)[0] if "/api/conversations/" in path else ""
        )
        if cid in self.tokens:
            req.add_header("X-Customer-Token", self.tokens[cid])
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urlopen(req, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def new_conversation(self) -> str:
        status, body = self.request("POST", "/api/conversations")
        assert status == 201, body
        self.tokens[str(body["conversation_id"])] = str(body["customer_token"])
        return str(body["conversation_id"])

    def say(self, conversation_id: str, text: str) -> dict[str, Any]:
        status, body = self.request("POST", f"/api/conversations/{conversation_id}/messages", {"text": text})
        assert status == 200, body
        return dict(body)

    def sms_code(self, phone: str) -> str:
        """The newest one-time code the development SMS provider 'sent' to ``phone``."""
        outbox = self.var_dir / "sms_outbox.jsonl"
        for line in reversed(outbox.read_text(encoding="utf-8").splitlines()):
            entry = json.loads(line)
            if entry.get("phone") == phone:
                return str(entry["code"])
        raise AssertionError(f"no SMS sent to {phone}")


def _wait_healthy(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            with urlopen(url + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except HTTPError as exc:
            last = exc.read()[:300]
        except (URLError, OSError) as exc:
            last = exc
        time.sleep(1)
    raise RuntimeError(f"stack not healthy after {timeout:.0f}s: {last!r}")


def stack_settings(var_dir: Path) -> CommonSettings:
    """Settings of one test stack: free loopback ports, its own var dir."""
    return loopback_settings(var_dir)


def stack_env(settings: CommonSettings) -> dict[str, str]:
    """The services' environment for tests (secrets generated under the stack's var dir)."""
    env = service_env(settings)
    env["KEFU_KB_INDEX_DIR"] = str(INDEX_DIR)
    # Agents answer around the clock in tests; the after-hours path has its own unit tests.
    env["KEFU_HANDOFF_WORKING_HOURS"] = "00:00-24:00"
    # Every test talks from 127.0.0.1: the per-IP limits have their own tests (tests/security).
    env["KEFU_RATE_CONVERSATIONS_PER_IP_HOUR"] = "10000"
    env["KEFU_RATE_REQUESTS_PER_IP_MINUTE"] = "100000"
    port = settings.gateway_port
    env["KEFU_ALLOWED_ORIGINS"] = json.dumps([f"http://127.0.0.1:{port}", f"http://localhost:{port}"])
    env.update({k: v for k, v in os.environ.items() if k.startswith("KEFU_TEST_STACK_")})
    return env


@contextmanager
def running_stack(
    settings: CommonSettings, env: dict[str, str], services: list[Service] | None = None
) -> Iterator[LiveStack]:
    """Start the services (default: those of `make run`) and yield once the gateway is healthy."""
    if not MODEL.exists():
        pytest.fail(f"no trained Rasa model at {MODEL}: run `make train` (make test does it)")
    if not (INDEX_DIR / "manifest.json").exists():
        pytest.fail(f"no retrieval index in {INDEX_DIR}: run `make index` (make test does it)")
    var_dir = Path(settings.var_dir)
    upgrade_database(settings.database_url)
    seed_demo_accounts(settings.database_url)
    supervisor = Supervisor(
        services or build_services(settings), env, var_dir / "logs", color=False, echo=False
    )
    supervisor.start()
    try:
        supervisor.wait_healthy()
        _wait_healthy(settings.gateway_url, 240)
        yield LiveStack(supervisor, settings, var_dir)
    except BaseException:  # pytest-timeout's Failed too: the logs say why a service is not up
        for log in sorted((var_dir / "logs").glob("*.log")):
            print(f"===== {log.name} (tail) =====")
            print(log.read_text(errors="replace")[-4000:])
        raise
    finally:
        supervisor.stop()


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """The whole product, as `make run` starts it, on free ports and a temporary var dir."""
    settings = stack_settings(tmp_path_factory.mktemp("stack-var"))
    with running_stack(settings, stack_env(settings)) as stack:
        yield stack
