"""The supervisor behind `make run`: ports, health, a dying service, clean stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kefu.settings import CommonSettings
from kefu.supervisor import Service, Supervisor, SupervisorError, build_services, port_free
from kefu.supervisor_settings import SupervisorSettings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http_service(name: str, port: int) -> Service:
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    return Service(name, argv, "127.0.0.1", port, "/", startup_timeout=30)


def test_taken_port_is_reported_with_the_service_name(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        supervisor = Supervisor([_http_service("gateway", port)], {}, tmp_path, color=False, echo=False)
        with pytest.raises(SupervisorError, match=rf"port {port} for service 'gateway' is already in use"):
            supervisor.start()


def test_services_start_healthy_and_stop_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    supervisor = Supervisor([_http_service("web", port)], {}, tmp_path, color=False, echo=False)
    supervisor.start()
    try:
        supervisor.wait_healthy()
        assert not port_free("127.0.0.1", port)
    finally:
        supervisor.stop()
    assert supervisor.services[0].process is not None
    assert supervisor.services[0].process.poll() is not None
    assert (tmp_path / "web.log").exists()


def test_a_dying_service_is_named(tmp_path: Path) -> None:
    dying = Service(
        "actions", [sys.executable, "-c", "import sys; sys.exit(3)"], "127.0.0.1", _free_port(), "/"
    )
    supervisor = Supervisor([dying], {}, tmp_path, color=False, echo=False)
    supervisor.start()
    try:
        with pytest.raises(SupervisorError, match="service 'actions' exited with code 3"):
            supervisor.wait_healthy()
    finally:
        supervisor.stop()


def test_build_services_uses_the_configured_ports() -> None:
    settings = CommonSettings(
        rasa_url="http://127.0.0.1:6005", action_server_url="http://127.0.0.1:6055", gateway_port=9000
    )
    ports = {s.name: s.port for s in build_services(settings)}
    assert ports == {"rasa": 6005, "actions": 6055, "gateway": 9000}


def _fast_policy(**overrides: float) -> SupervisorSettings:
    values: dict[str, float] = {
        "backoff_seconds": 0.2,
        "max_backoff_seconds": 1.0,
        "crash_limit": 3,
        "crash_window_seconds": 60,
        "probe_interval_seconds": 0.5,
    }
    values.update(overrides)
    return SupervisorSettings(**values)  # type: ignore[arg-type]


def _wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def test_a_killed_service_is_restarted_and_reported(tmp_path: Path) -> None:
    port = _free_port()
    supervisor = Supervisor(
        [_http_service("web", port)], {}, tmp_path / "logs", color=False, echo=False, policy=_fast_policy()
    )
    supervisor.start()
    try:
        supervisor.wait_healthy()
        supervisor.watch_in_background()
        first = supervisor.services[0].process
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)
        web = supervisor.status["web"]
        _wait_for(lambda: web.restarts == 1 and web.state == "running")
        assert not port_free("127.0.0.1", port)  # answering again, on its own
        state = json.loads((tmp_path / "supervisor.json").read_text())
        assert state["services"]["web"]["restarts"] == 1
        assert state["services"]["web"]["last_exit_code"] == -signal.SIGKILL
        assert "web exited with code -9; restarting" in (tmp_path / "logs" / "supervisor.log").read_text()
    finally:
        supervisor.stop()
    assert json.loads((tmp_path / "supervisor.json").read_text())["services"]["web"]["state"] == "stopped"


def test_a_crash_loop_is_given_up_and_the_others_keep_running(tmp_path: Path) -> None:
    port = _free_port()
    marker = tmp_path / "started-once"
    # Healthy the first time (so start-up succeeds), then exits at once on every restart.
    script = (
        "import pathlib, sys, http.server, socketserver\n"
        f"m = pathlib.Path({str(marker)!r})\n"
        "if m.exists(): sys.exit(7)\n"
        "m.touch()\n"
        f"http.server.ThreadingHTTPServer(('127.0.0.1', {port}), http.server.SimpleHTTPRequestHandler)"
        ".serve_forever()\n"
    )
    flaky = Service("worker", [sys.executable, "-c", script], "127.0.0.1", port, "/", startup_timeout=30)
    other_port = _free_port()
    supervisor = Supervisor(
        [flaky, _http_service("web", other_port)],
        {},
        tmp_path / "logs",
        color=False,
        echo=False,
        policy=_fast_policy(),
    )
    supervisor.start()
    try:
        supervisor.wait_healthy()
        supervisor.watch_in_background()
        assert flaky.process is not None
        os.kill(flaky.process.pid, signal.SIGKILL)
        _wait_for(lambda: supervisor.status["worker"].state == "failed")
        assert supervisor.status["worker"].restarts == 2  # 3 crashes: two restarts, then given up
        assert supervisor.status["worker"].last_exit_code == 7
        assert supervisor.status["web"].state == "running"
        assert not port_free("127.0.0.1", other_port)
        log = (tmp_path / "logs" / "supervisor.log").read_text()
        assert "worker gave up after 3 crashes in 60s" in log
    finally:
        supervisor.stop()
