"""Killing a service of a live stack and waiting for the supervisor to bring it back."""

from __future__ import annotations

import os
import signal
import time

from tests.conftest import LiveStack


def kill(stack: LiveStack, name: str) -> int:
    """SIGKILL the service's process group; returns its restart count before."""
    service = next(s for s in stack.supervisor.services if s.name == name)
    assert service.process is not None and service.process.poll() is None, f"{name} not running"
    before = stack.supervisor.status[name].restarts
    os.killpg(service.process.pid, signal.SIGKILL)
    service.process.wait()
    return before


def wait_back(stack: LiveStack, name: str, restarts_before: int, timeout: float = 600.0) -> None:
    status = stack.supervisor.status[name]
    deadline = time.monotonic() + timeout
    while not (status.restarts > restarts_before and status.state == "running"):
        assert time.monotonic() < deadline, f"{name} not back: {status.state} {status.detail}"
        time.sleep(0.5)
