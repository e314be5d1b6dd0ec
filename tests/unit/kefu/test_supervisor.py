"""The supervisor behind `make run`: ports, health, a dying service, clean stop."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from kefu.settings import CommonSettings
from kefu.supervisor import Service, Supervisor, SupervisorError, build_services, port_free, service_env


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
