"""Running one service's process: its own process group, its output prefixed and logged.

Each service's output is prefixed with its name on stdout (when ``echo``) and appended to
``<log_dir>/<name>.log``; the supervisor's own lines go to ``<log_dir>/supervisor.log``.
Services run in their own session so that Ctrl-C reaches the supervisor only and it can stop
them in order; a stop is SIGTERM to the group, then SIGKILL after a timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from kefu.settings import REPO_ROOT
from kefu.supervisor_services import Service

COLORS = {"rasa": "\033[35m", "actions": "\033[36m", "gateway": "\033[32m"}
RESET = "\033[0m"


class ProcessRunner:
    """Starts and stops service processes in ``env``, and writes the supervisor's log."""

    def __init__(self, env: dict[str, str], log_dir: Path, *, color: bool, echo: bool, width: int) -> None:
        self.env = env
        self.log_dir = log_dir
        self.color = color
        self.echo = echo
        self._width = width  # longest service name: the prefixes line up
        self._threads: list[threading.Thread] = []

    def spawn(self, service: Service) -> subprocess.Popen[bytes]:
        """Start ``service`` (it becomes ``service.process``); a thread copies its output."""
        process = subprocess.Popen(
            service.argv,
            cwd=REPO_ROOT,
            env={**self.env, **service.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the services in order
        )
        service.process = process
        thread = threading.Thread(target=self._pump, args=(service.name, process), daemon=True)
        thread.start()
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        return process

    def _pump(self, name: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        prefix = name.ljust(self._width) + " | "
        if self.color:
            prefix = COLORS.get(name, "") + prefix + RESET
        with open(self.log_dir / f"{name}.log", "ab") as log_file:
            for raw in iter(process.stdout.readline, b""):
                log_file.write(raw)
                log_file.flush()
                if self.echo:
                    sys.stdout.write(prefix + raw.decode("utf-8", "replace"))
                    sys.stdout.flush()

    @staticmethod
    def signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
        """Send ``sig`` to the process's group, if it still runs."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)

    @staticmethod
    def wait_or_kill(process: subprocess.Popen[bytes], timeout: float) -> None:
        """Wait ``timeout`` seconds for the process to end, then SIGKILL its group."""
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    @classmethod
    def kill(cls, process: subprocess.Popen[bytes], sig: int, timeout: float) -> None:
        """Send ``sig`` to the group and wait for the end (SIGKILL after ``timeout``)."""
        if process.poll() is not None:
            return
        cls.signal_group(process, sig)
        cls.wait_or_kill(process, timeout)

    def join(self, timeout: float = 2.0) -> None:
        """Wait for the output threads to copy what is left (after the processes ended)."""
        for thread in self._threads:
            thread.join(timeout=timeout)

    def say(self, text: str) -> None:
        """A line of the supervisor's own: on stdout (when ``echo``) and in ``supervisor.log``."""
        line = f"[kefu] {text}\n"
        if self.echo:
            sys.stdout.write(line)
            sys.stdout.flush()
        with (
            contextlib.suppress(OSError),
            open(self.log_dir / "supervisor.log", "a", encoding="utf-8") as log_file,
        ):
            log_file.write(time.strftime("%Y-%m-%d %H:%M:%S ") + line)
