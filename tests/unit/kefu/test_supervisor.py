"""The supervisor behind `make run`: ports, health, a dying service, clean stop."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from kefu.settings import CommonSettings
from kefu.supervisor import Service, Supervisor, SupervisorError, build_services, port_free


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
