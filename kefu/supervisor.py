"""Start Rasa, the action server and the gateway; keep them up; stop them together.

``python -m kefu.supervisor`` is what ``make run`` calls. Each service's output is
prefixed with its name and also written to ``var/logs/<name>.log``; the supervisor's own
lines go to ``var/logs/supervisor.log``. If a port is taken or a service cannot start at
all, everything is stopped and the exit code is non-zero with a message naming the
service. Once up, a service that crashes or hangs is restarted with backoff; a crash loop
marks it failed (see :class:`Supervisor`). The state is in ``var/supervisor.json`` and the
gateway's ``/healthz``. Ctrl-C (or SIGTERM) stops all services cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import urlopen

from kefu.health_probes import actions_ready, rasa_ready
from kefu.service_secrets import ensure_service_secrets
from kefu.settings import REPO_ROOT, CommonSettings
from kefu.supervisor_settings import SupervisorSettings

STATE_FILE = "supervisor.json"  # under var/: the services' state, shown by the gateway's /healthz
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
    startup_timeout: float = 600.0  # Rasa loads its model in ~1 min, several on a busy 2-core machine
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
            "KEFU_RASA_TRACKER_URL": settings.rasa_tracker_url,
            "KEFU_RASA_LOCK_STORE_URL": settings.rasa_lock_store_url,
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


def service_ready(service: Service, env: Mapping[str, str]) -> tuple[bool, str]:
    """Whether ``service`` is really ready (warm), with a short reason for the log and /healthz.

    ``env`` is the services' environment: the probes authenticate like Rasa and the gateway do.
    """
    base = f"http://{service.host}:{service.port}"
    if service.name == "rasa":
        return rasa_ready(base, env.get("KEFU_RASA_TOKEN", ""))
    if service.name == "actions":
        return actions_ready(base, env.get("KEFU_ACTION_SERVER_TOKEN", ""))
    status = _health_status(service.health_url)
    return status in service.healthy_codes, "not answering" if status is None else f"HTTP {status}"


@dataclass
class ServiceStatus:
    """What the supervisor knows about one service (written to var/supervisor.json)."""

    state: str = "starting"  # starting | running | restarting | failed | stopped
    restarts: int = 0
    last_exit_code: int | None = None
    last_restart_at: float | None = None
    detail: str = ""
    crashes: deque[float] = field(default_factory=deque)
    spawned_at: float = 0.0  # monotonic
    next_start_at: float | None = None  # monotonic; set while waiting out the backoff
    unhealthy_since: float | None = None
    last_probe: float = 0.0

    def to_dict(self, pid: int | None) -> dict[str, object]:
        return {
            "state": self.state,
            "pid": pid,
            "restarts": self.restarts,
            "last_exit_code": self.last_exit_code,
            "last_restart_at": self.last_restart_at,
            "detail": self.detail,
        }


class Supervisor:
    """Starts the services, restarts a crashed or hung one with backoff, gives up on a crash loop.

    Only a service that cannot start at all (during :meth:`wait_healthy`) stops everything;
    later a crash means: log it, wait ``backoff * 2**(crashes-1)`` (capped), start it again,
    and count it healthy only once warm. ``crash_limit`` crashes within ``crash_window_seconds``
    mark the service ``failed`` (logged, shown in /healthz) and it is left alone.
    """

    def __init__(
        self,
        services: list[Service],
        env: dict[str, str],
        log_dir: Path,
        color: bool,
        echo: bool = True,
        *,
        policy: SupervisorSettings | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.services = services
        self.echo = echo
        self.env = env
        self.log_dir = log_dir
        self.color = color
        self.policy = policy or SupervisorSettings()
        self.state_file = state_file or log_dir.parent / STATE_FILE
        self.status = {s.name: ServiceStatus() for s in services}
        self._stopping = threading.Event()
        self._lock = threading.RLock()  # one of: the watch loop, restart(), stop()
        self._threads: list[threading.Thread] = []
        self._width = max(len(s.name) for s in services)
        self._last_write = 0.0

    def _pump(self, service: Service, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        prefix = service.name.ljust(self._width) + " | "
        if self.color:
            prefix = COLORS.get(service.name, "") + prefix + RESET
        with open(self.log_dir / f"{service.name}.log", "ab") as log_file:
            for raw in iter(process.stdout.readline, b""):
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
        status = self.status[service.name]
        status.spawned_at = time.monotonic()
        status.next_start_at = None
        status.unhealthy_since = None
        thread = threading.Thread(target=self._pump, args=(service, service.process), daemon=True)
        thread.start()
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    @staticmethod
    def _kill(process: subprocess.Popen[bytes], sig: int, timeout: float) -> None:
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self, name: str, timeout: float = 15.0) -> None:
        """Stop one service and start it again, waiting until it is ready (tests of restarts)."""
        service = next(s for s in self.services if s.name == name)
        with self._lock:
            if service.process is not None:
                self._kill(service.process, signal.SIGTERM, timeout)
            status = self.status[name]
            status.state, status.detail = "restarting", "restart requested"
            status.restarts += 1
            status.last_restart_at = time.time()
            self.say(f"restarting {name} (requested)")
            self._spawn(service)
        started = time.monotonic()
        while not service_ready(service, self.env)[0]:
            self.check_alive()
            if time.monotonic() - started > service.startup_timeout:
                raise SupervisorError(f"service '{name}' did not come back after a restart")
            time.sleep(0.5)
        with self._lock:
            status.state, status.detail = "running", "ready"
            self._write_state(force=True)

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
        self._write_state(force=True)

    def wait_healthy(self) -> None:
        """Wait until every service is ready; one that exits or never gets ready stops everything."""
        pending = list(self.services)
        started = time.monotonic()
        while pending:
            self.check_alive()
            for service in list(pending):
                ready, detail = service_ready(service, self.env)
                if ready:
                    self.say(f"{service.name} is up ({service.health_url}: {detail})")
                    self.status[service.name].state = "running"
                    self.status[service.name].detail = detail
                    pending.remove(service)
                elif time.monotonic() - started > service.startup_timeout:
                    raise SupervisorError(
                        f"service '{service.name}' did not become healthy within "
                        f"{service.startup_timeout:.0f}s ({detail}; see var/logs/{service.name}.log)"
                    )
            self._write_state()
            time.sleep(0.5)
        self._write_state(force=True)

    def check_alive(self) -> None:
        for service in self.services:
            if service.process is not None and service.process.poll() is not None:
                raise SupervisorError(
                    f"service '{service.name}' exited with code {service.process.returncode} "
                    f"(see var/logs/{service.name}.log)"
                )

    def run_forever(self) -> None:
        """Watch the services until :meth:`stop` (or Ctrl-C): restart, probe, give up on crash loops."""
        while not self._stopping.is_set():
            with self._lock:
                if self._stopping.is_set():
                    break
                for service in self.services:
                    self._watch(service)
                self._write_state()
            self._stopping.wait(0.5)

    def watch_in_background(self) -> threading.Thread:
        """:meth:`run_forever` in a daemon thread (tests; ``main`` runs it in the foreground)."""
        thread = threading.Thread(target=self.run_forever, name="kefu-supervisor", daemon=True)
        thread.start()
        return thread

    def _watch(self, service: Service) -> None:
        status = self.status[service.name]
        now = time.monotonic()
        proc = service.process
        if status.state in ("failed", "stopped"):
            return
        if status.next_start_at is not None:
            if now >= status.next_start_at:
                self.say(f"starting {service.name} again (restart {status.restarts})")
                self._spawn(service)
            return
        if proc is not None and proc.poll() is not None:
            self._crashed(service, proc.returncode, now)
            return
        if status.state == "restarting":
            if now - status.last_probe < 1.0:
                return
            status.last_probe = now
            ready, detail = service_ready(service, self.env)
            status.detail = detail
            if ready:
                status.state = "running"
                self.say(f"{service.name} is back ({detail}) after restart {status.restarts}")
                self._write_state(force=True)
            elif now - status.spawned_at > service.startup_timeout and proc is not None:
                self.say(
                    f"{service.name} not ready {service.startup_timeout:.0f}s after a restart: killing it"
                )
                self._kill(proc, signal.SIGKILL, 5)
            return
        if now - status.last_probe < self.policy.probe_interval_seconds:
            return
        status.last_probe = now
        ready, detail = service_ready(service, self.env)
        if ready:
            status.unhealthy_since, status.detail = None, detail
            return
        status.detail = detail
        status.unhealthy_since = status.unhealthy_since or now
        if now - status.unhealthy_since > self.policy.hang_seconds and proc is not None:
            self.say(f"{service.name} unhealthy for {self.policy.hang_seconds:.0f}s ({detail}): killing it")
            self._kill(proc, signal.SIGKILL, 5)

    def _crashed(self, service: Service, code: int, now: float) -> None:
        status = self.status[service.name]
        status.last_exit_code = code
        status.crashes.append(now)
        while status.crashes and now - status.crashes[0] > self.policy.crash_window_seconds:
            status.crashes.popleft()
        if len(status.crashes) >= self.policy.crash_limit:
            status.state = "failed"
            status.detail = (
                f"gave up after {len(status.crashes)} crashes in {self.policy.crash_window_seconds:.0f}s"
            )
            self.say(
                f"ERROR: {service.name} {status.detail} (exit code {code}; see var/logs/{service.name}.log)"
            )
            self._write_state(force=True)
            return
        delay = min(
            self.policy.max_backoff_seconds, self.policy.backoff_seconds * 2 ** (len(status.crashes) - 1)
        )
        status.state = "restarting"
        status.restarts += 1
        status.last_restart_at = time.time()
        status.next_start_at = now + delay
        status.detail = f"exited with code {code}"
        self.say(
            f"{service.name} exited with code {code}; restarting in {delay:.1f}s (restart {status.restarts})"
        )
        self._write_state(force=True)

    def _write_state(self, *, force: bool = False) -> None:
        """var/supervisor.json, read by the gateway's /healthz (rewritten at least every 2 s)."""
        if not force and time.monotonic() - self._last_write < 2.0:
            return
        self._last_write = time.monotonic()
        body = {
            "supervisor_pid": os.getpid(),
            "updated_at": time.time(),
            "services": {
                s.name: self.status[s.name].to_dict(s.process.pid if s.process else None)
                for s in self.services
            },
        }
        with contextlib.suppress(OSError):
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.state_file)

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        with self._lock:
            for service in reversed(self.services):
                proc = service.process
                if proc is not None and proc.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for service in self.services:
                proc = service.process
                self.status[service.name].state = "stopped"
                if proc is None:
                    continue
                try:
                    proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            self._write_state(force=True)
        for thread in self._threads:
            thread.join(timeout=2)

    def say(self, text: str) -> None:
        line = f"[kefu] {text}\n"
        if self.echo:
            sys.stdout.write(line)
            sys.stdout.flush()
        with (
            contextlib.suppress(OSError),
            open(self.log_dir / "supervisor.log", "a", encoding="utf-8") as log_file,
        ):
            log_file.write(time.strftime("%Y-%m-%d %H:%M:%S ") + line)


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
