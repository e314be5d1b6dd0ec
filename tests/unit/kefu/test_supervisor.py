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
from kefu.supervisor import Service, Supervisor, SupervisorError, build_services, port_free, service_env
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


def test_rasa_runs_single_threaded_inference_unless_configured() -> None:
    # Idle OpenMP/TensorFlow pools spin and double Rasa's CPU per message on shared cores.
    default = {s.name: s.env for s in build_services(CommonSettings())}
    assert default["rasa"]["OMP_NUM_THREADS"] == "1"
    assert default["rasa"]["TF_NUM_INTRAOP_THREADS"] == "1"
    assert "OMP_NUM_THREADS" not in default["actions"]
    wider = {s.name: s.env for s in build_services(CommonSettings(rasa_threads=2))}
    assert wider["rasa"]["TF_NUM_INTEROP_THREADS"] == "2"


def test_service_env_generates_each_secret_once_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("KEFU_ACTION_SERVER_TOKEN", "KEFU_RASA_TOKEN", "KEFU_RASA_CHANNEL_SECRET"):
        monkeypatch.delenv(name, raising=False)
    settings = CommonSettings(var_dir=tmp_path)
    first = service_env(settings)
    again = service_env(settings)
    names = ("KEFU_ACTION_SERVER_TOKEN", "KEFU_RASA_TOKEN", "KEFU_RASA_CHANNEL_SECRET")
    assert [first[n] for n in names] == [again[n] for n in names]
    assert len({first[n] for n in names}) == 3 and all(len(first[n]) >= 32 for n in names)
    files = sorted((tmp_path / "secrets").iterdir())
    assert [f.name for f in files] == ["action_server_token", "rasa_channel_secret", "rasa_token"]
    assert {f.stat().st_mode & 0o777 for f in files} == {0o600}
    assert (tmp_path / "secrets" / "rasa_token").read_text().strip() == first["KEFU_RASA_TOKEN"]


def test_service_env_prefers_the_configured_secret_and_rotation_is_a_new_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEFU_RASA_TOKEN", "operator-chosen-token-123")
    monkeypatch.delenv("KEFU_ACTION_SERVER_TOKEN", raising=False)
    env = service_env(CommonSettings(var_dir=tmp_path))
    assert env["KEFU_RASA_TOKEN"] == "operator-chosen-token-123"
    assert not (tmp_path / "secrets" / "rasa_token").exists()
    old = env["KEFU_ACTION_SERVER_TOKEN"]
    (tmp_path / "secrets" / "action_server_token").unlink()  # rotation: delete and restart
    assert service_env(CommonSettings(var_dir=tmp_path))["KEFU_ACTION_SERVER_TOKEN"] != old


def test_a_short_configured_secret_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_RASA_TOKEN", "short")
    with pytest.raises(ValueError, match="KEFU_RASA_TOKEN must be at least 16 characters"):
        service_env(CommonSettings(var_dir=tmp_path))


def test_internal_services_bind_loopback_and_rasa_gets_no_token_on_its_command_line() -> None:
    services = {s.name: s for s in build_services(CommonSettings())}
    assert services["actions"].argv[1:] == ["-m", "actions.server", "--host", "127.0.0.1", "--port", "5055"]
    rasa = services["rasa"].argv
    assert rasa[1:4] == ["-m", "bot.rasa_server", "run"]
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1" and "--auth-token" not in rasa
    assert services["rasa"].health_path == "/"


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
