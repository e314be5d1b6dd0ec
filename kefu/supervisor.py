"""Start Rasa, the action server and the gateway; keep them up; stop them together.

``python -m kefu.supervisor`` is what ``make run`` calls. Each service's output is
prefixed with its name and also written to ``var/logs/<name>.log``; the supervisor's own
lines go to ``var/logs/supervisor.log``. If a port is taken or a service cannot start at
all, everything is stopped and the exit code is non-zero with a message naming the
service. Once up, a service that crashes or hangs is restarted with backoff; a crash loop
marks it failed (see :class:`Supervisor`). The state is in ``var/supervisor.json`` and the
gateway's ``/healthz``. Ctrl-C (or SIGTERM) stops all services cleanly.

The parts: :mod:`kefu.supervisor_services` (what runs), :mod:`kefu.supervisor_policy` (when
to restart), :mod:`kefu.supervisor_process` (running processes, logs),
:mod:`kefu.supervisor_state` (``var/supervisor.json``); this module watches and stops them.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from kefu.health_probes import http_status
from kefu.settings import CommonSettings
from kefu.supervisor_policy import RestartPolicy, ServiceStatus
from kefu.supervisor_process import ProcessRunner
from kefu.supervisor_services import Service, build_services, port_free, service_env, service_ready
from kefu.supervisor_settings import SupervisorSettings
from kefu.supervisor_state import STATE_FILE, StateFile

__all__ = [
    "STATE_FILE",
    "Service",
    "ServiceStatus",
    "Supervisor",
    "SupervisorError",
    "build_services",
    "main",
    "port_free",
    "service_env",
]


class SupervisorError(RuntimeError):
    """A service could not start or died; the message names it."""


class Supervisor:
    """Starts the services, restarts a crashed or hung one with backoff, gives up on a crash loop.

    Only a service that cannot start at all (during :meth:`wait_healthy`) stops everything;
    later a crash means: log it, wait out the backoff of the :class:`RestartPolicy`, start it
    again, and count it healthy only once warm. A crash loop marks the service ``failed``
    (logged, shown in /healthz) and it is left alone.
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
        runner: ProcessRunner | None = None,
        restarts: RestartPolicy | None = None,
        state: StateFile | None = None,
    ) -> None:
        self.services = services
        self.env = env
        self.log_dir = log_dir
        self.policy = policy or SupervisorSettings()
        width = max(len(s.name) for s in services)
        self.runner = runner or ProcessRunner(env, log_dir, color=color, echo=echo, width=width)
        self.restarts = restarts or RestartPolicy(self.policy)
        self.state = state or StateFile(state_file or log_dir.parent / STATE_FILE)
        self.status = {s.name: ServiceStatus() for s in services}
        self._stopping = threading.Event()
        self._lock = threading.RLock()  # one of: the watch loop, restart(), stop()

    def say(self, text: str) -> None:
        self.runner.say(text)

    def _spawn(self, service: Service) -> None:
        self.runner.spawn(service)
        self.status[service.name].spawned(time.monotonic())

    def _write_state(self, *, force: bool = False) -> None:
        self.state.write(self.services, self.status, force=force)

    def restart(self, name: str, timeout: float = 15.0) -> None:
        """Stop one service and start it again, waiting until it is ready (tests of restarts)."""
        service = next(s for s in self.services if s.name == name)
        with self._lock:
            if service.process is not None:
                self.runner.kill(service.process, signal.SIGTERM, timeout)
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
                self.runner.kill(proc, signal.SIGKILL, 5)
            return
        if not self.restarts.probe_due(status, now):
            return
        ready, detail = service_ready(service, self.env)
        if self.restarts.hung(status, ready, detail, now) and proc is not None:
            self.say(f"{service.name} unhealthy for {self.policy.hang_seconds:.0f}s ({detail}): killing it")
            self.runner.kill(proc, signal.SIGKILL, 5)

    def _crashed(self, service: Service, code: int, now: float) -> None:
        status = self.status[service.name]
        delay = self.restarts.crashed(status, code, now)
        if delay is None:
            self.say(
                f"ERROR: {service.name} {status.detail} (exit code {code}; see var/logs/{service.name}.log)"
            )
        else:
            self.say(
                f"{service.name} exited with code {code}; restarting in {delay:.1f}s "
                f"(restart {status.restarts})"
            )
        self._write_state(force=True)

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        with self._lock:
            for service in reversed(self.services):
                if service.process is not None:
                    self.runner.signal_group(service.process, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for service in self.services:
                self.status[service.name].state = "stopped"
                if service.process is not None:
                    self.runner.wait_or_kill(service.process, max(0.1, deadline - time.monotonic()))
            self._write_state(force=True)
        self.runner.join(timeout=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu.supervisor", description=__doc__)
    parser.add_argument("--no-color", action="store_true", help="no ANSI colours in prefixes")
    args = parser.parse_args(argv)
    settings = CommonSettings()
    policy = SupervisorSettings()
    services = build_services(settings)
    env = service_env(settings)
    log_dir = Path(settings.var_dir) / "logs"
    color = sys.stdout.isatty() and not args.no_color
    supervisor = Supervisor(
        services,
        env,
        log_dir,
        color=color,
        policy=policy,
        runner=ProcessRunner(env, log_dir, color=color, echo=True, width=max(len(s.name) for s in services)),
        restarts=RestartPolicy(policy),
        state=StateFile(Path(settings.var_dir) / STATE_FILE),
    )

    def _on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    try:
        supervisor.start()
        supervisor.wait_healthy()
        supervisor.say("all services are up")
        supervisor.say(f"web chat:      {settings.gateway_url}/")
        if http_status(f"{settings.gateway_url}/console") == 200:
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
