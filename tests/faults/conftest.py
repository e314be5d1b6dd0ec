"""The live stack with the supervisor's watch loop running, and ways to hurt its services."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from typing import Any
from urllib.error import URLError
from urllib.request import Request, urlopen

import pytest

from tests.conftest import LiveStack


class Faults:
    """Kill, freeze and thaw the real services of the stack, and wait for the supervisor."""

    def __init__(self, stack: LiveStack) -> None:
        self.stack = stack
        self._frozen: set[int] = set()

    def pid(self, name: str) -> int:
        service = next(s for s in self.stack.supervisor.services if s.name == name)
        assert service.process is not None and service.process.poll() is None, f"{name} not running"
        return service.process.pid

    def restarts(self, name: str) -> int:
        return self.stack.supervisor.status[name].restarts

    def kill(self, name: str) -> int:
        """kill -9 the service (its process group); returns its restart count before."""
        before = self.restarts(name)
        os.killpg(self.pid(name), signal.SIGKILL)
        return before

    def freeze(self, name: str) -> None:
        """SIGSTOP: the port still accepts connections, nothing answers (a hung or very slow service)."""
        pid = self.pid(name)
        os.killpg(pid, signal.SIGSTOP)
        self._frozen.add(pid)

    def thaw(self, name: str) -> None:
        pid = self.pid(name)
        os.killpg(pid, signal.SIGCONT)
        self._frozen.discard(pid)

    def thaw_all(self) -> None:
        for pid in list(self._frozen):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGCONT)
            self._frozen.discard(pid)

    def wait_back(self, name: str, restarts_before: int, timeout: float = 600.0) -> None:
        """Until the supervisor restarted ``name`` on its own and it is ready (warm) again."""
        status = self.stack.supervisor.status[name]
        deadline = time.monotonic() + timeout
        while not (status.restarts > restarts_before and status.state == "running"):
            assert status.state != "failed", f"{name} given up: {status.detail}"
            assert time.monotonic() < deadline, f"{name} not back: {status.state} {status.detail}"
            time.sleep(0.5)

    def post(self, path: str, body: Any, timeout: float = 60.0) -> tuple[int, Any]:
        """POST that reports a dead gateway as status 0 instead of raising."""
        req = Request(self.stack.url + path, data=json.dumps(body).encode(), method="POST")
        req.add_header("Content-Type", "application/json")
        found = re.search(r"/api/conversations/([^/?]+)", path)
        if found and found.group(1) in self.stack.tokens:  # as the web chat does
            req.add_header("X-Customer-Token", self.stack.tokens[found.group(1)])
        try:
            with urlopen(req, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except URLError as exc:
            code = getattr(exc, "code", 0)
            return int(code), None
        except (ConnectionError, OSError):
            return 0, None

    def history(self, conversation_id: str) -> list[dict[str, Any]]:
        status, body = self.stack.request("GET", f"/api/conversations/{conversation_id}/messages")
        assert status == 200, body
        return list(body["messages"])


@pytest.fixture(scope="session")
def supervised_stack(live_stack: LiveStack) -> LiveStack:
    """The shared stack, now watched: crashed services come back on their own."""
    live_stack.supervisor.watch_in_background()  # once: the fixture is session-scoped
    return live_stack


@pytest.fixture
def faults(supervised_stack: LiveStack) -> Iterator[Faults]:
    hurt = Faults(supervised_stack)
    yield hurt
    hurt.thaw_all()
