"""What the supervisor knows about each service, and when it restarts one or gives up on it.

A crash is counted in a sliding window: ``crash_limit`` crashes within ``crash_window_seconds``
mark the service ``failed`` (it is left alone); otherwise the next start waits
``backoff * 2**(crashes-1)`` seconds, capped at ``max_backoff_seconds``. A running service
failing its health check for ``hang_seconds`` counts as hung. Times are ``time.monotonic()``.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from kefu.supervisor_settings import SupervisorSettings


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

    def spawned(self, now: float) -> None:
        """A new process of the service has just been started."""
        self.spawned_at = now
        self.next_start_at = None
        self.unhealthy_since = None


class RestartPolicy:
    """Backoff and the crash-loop limit (``KEFU_SUPERVISOR_*``, see :class:`SupervisorSettings`)."""

    def __init__(self, settings: SupervisorSettings) -> None:
        self.settings = settings

    def crashed(self, status: ServiceStatus, code: int, now: float) -> float | None:
        """Record a crash; the seconds to wait before the next start, or ``None``: given up.

        Given up, ``status`` is ``failed``; otherwise ``restarting`` with ``next_start_at`` set.
        """
        window = self.settings.crash_window_seconds
        status.last_exit_code = code
        status.crashes.append(now)
        while status.crashes and now - status.crashes[0] > window:
            status.crashes.popleft()
        if len(status.crashes) >= self.settings.crash_limit:
            status.state = "failed"
            status.detail = f"gave up after {len(status.crashes)} crashes in {window:.0f}s"
            return None
        delay = min(
            self.settings.max_backoff_seconds,
            self.settings.backoff_seconds * 2.0 ** (len(status.crashes) - 1),
        )
        status.state = "restarting"
        status.restarts += 1
        status.last_restart_at = time.time()
        status.next_start_at = now + delay
        status.detail = f"exited with code {code}"
        return delay

    def probe_due(self, status: ServiceStatus, now: float) -> bool:
        """Whether a running service's health check is due (and, if so, counts it as done)."""
        if now - status.last_probe < self.settings.probe_interval_seconds:
            return False
        status.last_probe = now
        return True

    def hung(self, status: ServiceStatus, ready: bool, detail: str, now: float) -> bool:
        """Record a health answer of a running service; whether it has now failed for too long."""
        status.detail = detail
        if ready:
            status.unhealthy_since = None
            return False
        status.unhealthy_since = status.unhealthy_since or now
        return now - status.unhealthy_since > self.settings.hang_seconds
