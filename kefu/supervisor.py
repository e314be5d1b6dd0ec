"""Start Rasa, the action server and the gateway; watch them; stop them together.

``python -m kefu.supervisor`` is what ``make run`` calls. Each service's output is
prefixed with its name and also written to ``var/logs/<name>.log``. If a port is
taken or a service dies, everything is stopped and the exit code is non-zero with a
message naming the service. Ctrl-C stops all services cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import urlopen

from kefu.service_secrets import ensure_service_secrets
from kefu.settings import REPO_ROOT, CommonSettings

COLORS = {"rasa": "\033[35m", "actions": "\033[36m", "gateway": "\033[32m"}
RESET = "\033[0m"


class SupervisorError(RuntimeError):
    """A service could not start or died; the message names it."""


@dataclass
class Service:
    name: str
    argv: list[str]
    host: str
    port: int
    health_path: str
    # Health answers that count as "up" (the gateway's /healthz is 503 until the others are up).
    healthy_codes: tuple[int, ...] = (200,)
    startup_timeout: float = 300.0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def health_url(self) -> str:
        return f"http://{self.host}:{self.port}{self.health_path}"


def _host_port(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 80


def build_services(settings: CommonSettings, root: Path = REPO_ROOT) -> list[Service]:
    rasa_host, rasa_port = _host_port(settings.rasa_url)
    act_host, act_port = _host_port(settings.action_server_url)
    rasa_python = root / ".venv-rasa" / "bin" / "python"
    python = root / ".venv" / "bin" / "python"
    return [
        Service(
            "actions",
            # actions.server: rasa-sdk behind the shared token, on the configured (loopback) interface.
            [str(python), "-m", "actions.server", "--host", act_host, "--port", str(act_port)],
            act_host,
            act_port,
            "/health",
        ),
        Service(
            "rasa",
            [
                # bot.rasa_server: log masking, then `rasa run` with --auth-token from KEFU_RASA_TOKEN.
                str(rasa_python),
                "-m",
                "bot.rasa_server",
                "run",
                "--enable-api",
                "--model",
                str(root / "models"),
                "--endpoints",
                str(root / "bot" / "endpoints.yml"),
                "--credentials",
                str(root / "bot" / "credentials.yml"),
                "--interface",
                rasa_host,
                "--port",
                str(rasa_port),
            ],
            rasa_host,
            rasa_port,
            # "/" needs no token and answers only once the model is loaded (before_server_start).
            "/",
            startup_timeout=600.0,  # loading the model takes minutes on a busy machine
        ),
        Service(
            "gateway",
            [
                str(python),
                "-m",
                "uvicorn",
                "gateway.main:create_app",
                "--factory",
                "--host",
                settings.gateway_host,
                "--port",
                str(settings.gateway_port),
                "--no-access-log",
                *("--no-proxy-headers", "--ws-max-size", "1048576"),  # XFF: see gateway.edge
            ],
            settings.gateway_host,
            settings.gateway_port,
            "/healthz",
            healthy_codes=(200, 503),
        ),
    ]


def service_env(settings: CommonSettings) -> dict[str, str]:
    """Environment of the services: offline model loading, shared paths, URLs and secrets.

    Each internal secret is the one configured (``settings``/environment) or, when unset, the one
    generated once under ``var/secrets/`` (see :mod:`kefu.service_secrets`).
    """
    env = dict(os.environ)
    configured = {
        "KEFU_ACTION_SERVER_TOKEN": settings.action_server_token.get_secret_value(),
        "KEFU_RASA_TOKEN": settings.rasa_token.get_secret_value(),
        "KEFU_RASA_CHANNEL_SECRET": settings.rasa_channel_secret.get_secret_value(),
    }
    env.update({k: v for k, v in configured.items() if v})
    env.update(ensure_service_secrets(Path(settings.var_dir), env))
    env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "KEFU_VAR_DIR": str(settings.var_dir),
            "KEFU_DATABASE_URL": settings.database_url,
            "KEFU_RASA_URL": settings.rasa_url,
            "KEFU_ACTION_SERVER_URL": settings.action_server_url,
            "KEFU_GATEWAY_HOST": settings.gateway_host,
            "KEFU_GATEWAY_PORT": str(settings.gateway_port),
            "KEFU_RASA_TRACKER_DB": str(Path(settings.var_dir).resolve() / "rasa_tracker.db"),
        }
    )
    return env


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _health_status(url: str) -> int | None:
    try:
        with urlopen(url, timeout=3) as response:
            return int(response.status)
    except HTTPError as exc:
        return int(exc.code)
    except (URLError, OSError):
        return None


class Supervisor:
    def __init__(
        self, services: list[Service], env: dict[str, str], log_dir: Path, color: bool, echo: bool = True
    ) -> None:
        self.services = services
        self.echo = echo
        self.env = env
        self.log_dir = log_dir
        self.color = color
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._width = max(len(s.name) for s in services)

    def _pump(self, service: Service) -> None:
        assert service.process is not None and service.process.stdout is not None
        prefix = service.name.ljust(self._width) + " | "
        if self.color:
            prefix = COLORS.get(service.name, "") + prefix + RESET
        with open(self.log_dir / f"{service.name}.log", "ab") as log_file:
            for raw in iter(service.process.stdout.readline, b""):
                log_file.write(raw)
                log_file.flush()
                if self.echo:
                    sys.stdout.write(prefix + raw.decode("utf-8", "replace"))
                    sys.stdout.flush()

    def _spawn(self, service: Service) -> None:
        service.process = subprocess.Popen(
            service.argv,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the services in order
        )
        thread = threading.Thread(target=self._pump, args=(service,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def restart(self, name: str, timeout: float = 15.0) -> None:
        """Stop one service and start it again (used by tests of restarts)."""
        service = next(s for s in self.services if s.name == name)
        proc = service.process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._spawn(service)
        started = time.monotonic()
        while _health_status(service.health_url) not in service.healthy_codes:
            self.check_alive()
            if time.monotonic() - started > service.startup_timeout:
                raise SupervisorError(f"service '{name}' did not come back after a restart")
            time.sleep(0.5)

    def start(self) -> None:
        for service in self.services:
            if not port_free(service.host, service.port):
                raise SupervisorError(
                    f"port {service.port} for service '{service.name}' is already in use "
                    f"({service.host}:{service.port}); stop whatever holds it or change its KEFU_* setting"
                )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in self.services:
            self._spawn(service)

    def wait_healthy(self) -> None:
        pending = list(self.services)
        started = time.monotonic()
        while pending:
            self.check_alive()
            for service in list(pending):
                if _health_status(service.health_url) in service.healthy_codes:
                    self.say(f"{service.name} is up ({service.health_url})")
                    pending.remove(service)
                elif time.monotonic() - started > service.startup_timeout:
                    raise SupervisorError(
                        f"service '{service.name}' did not become healthy within "
                        f"{service.startup_timeout:.0f}s (see var/logs/{service.name}.log)"
                    )
            time.sleep(0.5)

    def check_alive(self) -> None:
        for service in self.services:
            if service.process is not None and service.process.poll() is not None:
                raise SupervisorError(
                    f"service '{service.name}' exited with code {service.process.returncode} "
                    f"(see var/logs/{service.name}.log)"
                )

    def run_forever(self) -> None:
        while not self._stopping.is_set():
            self.check_alive()
            time.sleep(0.5)

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        for service in reversed(self.services):
            proc = service.process
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for service in self.services:
            proc = service.process
            if proc is None:
                continue
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for thread in self._threads:
            thread.join(timeout=2)

    def say(self, text: str) -> None:
        sys.stdout.write(f"[kefu] {text}\n")
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu.supervisor", description=__doc__)
    parser.add_argument("--no-color", action="store_true", help="no ANSI colours in prefixes")
    args = parser.parse_args(argv)
    settings = CommonSettings()
    supervisor = Supervisor(
        build_services(settings),
        service_env(settings),
        Path(settings.var_dir) / "logs",
        color=sys.stdout.isatty() and not args.no_color,
    )

    def _on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    try:
        supervisor.start()
        supervisor.wait_healthy()
        supervisor.say("all services are up")
        supervisor.say(f"web chat:      {settings.gateway_url}/")
        if _health_status(f"{settings.gateway_url}/console") == 200:
            supervisor.say(f"agent console: {settings.gateway_url}/console")
        else:
            supervisor.say("agent console: not part of this build yet")
        supervisor.say("press Ctrl-C to stop")
        supervisor.run_forever()
    except KeyboardInterrupt:
        supervisor.say("stopping…")
        supervisor.stop()
        supervisor.say("stopped")
        return 0
    except SupervisorError as exc:
        sys.stderr.write(f"[kefu] ERROR: {exc}\n")
        supervisor.stop()
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
