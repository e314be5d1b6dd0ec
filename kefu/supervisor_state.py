"""``var/supervisor.json``: the services' state, read by the gateway's ``/healthz``.

Written atomically (a temporary file, then a rename) so a reader never sees half a file;
routine updates are throttled to one every 2 s, changes of state are written at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path

from kefu.supervisor_policy import ServiceStatus
from kefu.supervisor_services import Service

STATE_FILE = "supervisor.json"  # under var/: the services' state, shown by the gateway's /healthz
MIN_INTERVAL_SECONDS = 2.0


class StateFile:
    """Writes the state of ``services`` to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last_write = 0.0

    def write(
        self, services: list[Service], status: Mapping[str, ServiceStatus], *, force: bool = False
    ) -> None:
        """Rewrite the file (unless it was written less than 2 s ago and ``force`` is off)."""
        if not force and time.monotonic() - self._last_write < MIN_INTERVAL_SECONDS:
            return
        self._last_write = time.monotonic()
        body = {
            "supervisor_pid": os.getpid(),
            "updated_at": time.time(),
            "services": {
                s.name: status[s.name].to_dict(s.process.pid if s.process else None) for s in services
            },
        }
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
