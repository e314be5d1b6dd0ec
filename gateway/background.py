"""Background jobs of the gateway (channel dispatcher, overdue check, index watcher), supervised.

A job that raises (or returns, which a loop never should) is logged with its traceback
and started again after a backoff that doubles up to a cap and resets once the job has
run for a while. Nothing dies silently: ``status()`` is shown in ``/healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
JobFactory = Callable[[], Awaitable[None]]


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel helper tasks and let them finish.

    A task left pending when its owner is cancelled (at shutdown) outlives the event loop and
    is reported as "Event loop is closed" when it is collected.
    """
    pending = [task for task in tasks if task is not None]
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@dataclass
class JobState:
    name: str
    state: str = "starting"  # running | restarting | stopped
    restarts: int = 0
    last_error: str | None = None
    last_restart_at: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "restarts": self.restarts,
            "last_error": self.last_error,
            "last_restart_at": self.last_restart_at,
        }


class BackgroundJobs:
    def __init__(
        self, *, backoff_seconds: float = 1.0, max_backoff_seconds: float = 60.0, healthy_after: float = 60.0
    ) -> None:
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.healthy_after = healthy_after
        self._jobs: dict[str, JobState] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def spawn(self, name: str, factory: JobFactory) -> None:
        """Run ``factory()`` now and again whenever it fails, until :meth:`stop`."""
        if name in self._tasks:
            raise ValueError(f"background job {name!r} already running")
        self._jobs[name] = JobState(name)
        self._tasks[name] = asyncio.create_task(self._keep_running(self._jobs[name], factory), name=name)

    async def _keep_running(self, job: JobState, factory: JobFactory) -> None:
        failures = 0
        while True:
            started = time.monotonic()
            job.state = "running"
            try:
                await factory()
                raise RuntimeError("job returned")  # a loop that ends is a failure too
            except asyncio.CancelledError:
                job.state = "stopped"
                raise
            except Exception as exc:
                if time.monotonic() - started > self.healthy_after:
                    failures = 0
                failures += 1
                delay = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (failures - 1))
                job.state = "restarting"
                job.restarts += 1
                job.last_error = f"{type(exc).__name__}: {exc}"[:300]
                job.last_restart_at = time.time()
                log.error(
                    "background job %s failed (%s); restart %d in %.1fs",
                    job.name,
                    job.last_error,
                    job.restarts,
                    delay,
                    exc_info=exc,
                )
                await asyncio.sleep(delay)

    def status(self) -> dict[str, dict[str, object]]:
        return {name: job.to_dict() for name, job in self._jobs.items()}

    async def stop(self) -> None:
        await cancel_and_wait(*self._tasks.values())
        self._tasks.clear()
