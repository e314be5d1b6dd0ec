"""One background rebuild at a time, with its progress, and rollback; the caller reloads its index."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from retrieval.embedder import Embedder
from retrieval.index_store import build_index
from retrieval.index_versions import list_versions, rollback
from retrieval.settings import RetrievalSettings

PHASES = {"reading": "读取文档", "embedding": "计算向量", "writing": "写入索引", "switching": "切换索引"}


class RebuildBusy(RuntimeError):
    """A rebuild is already running (or a rollback waits for it)."""


@dataclass
class RebuildStatus:
    state: str = "idle"  # idle | running | done | failed
    phase: str = ""
    progress: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    requested_by: str = ""
    version: str = ""
    chunks: int = 0
    error: str = ""

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "phase_label": PHASES.get(self.phase, "")}


class Rebuilder:
    """Builds a new index version in a thread while the live one keeps answering.

    ``on_switched`` runs after a build or a rollback switched the live version (the gateway reloads
    its knowledge base there; other processes notice the switch between requests). ``on_finished``
    gets the final status (the audit log records it).
    """

    def __init__(
        self,
        settings: RetrievalSettings,
        embedder: Callable[[], Embedder],
        on_switched: Callable[[], None],
        on_finished: Callable[[RebuildStatus], None] | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._on_switched = on_switched
        self._on_finished = on_finished or (lambda status: None)
        self._lock = threading.Lock()
        self._status = RebuildStatus()
        self._thread: threading.Thread | None = None

    def status(self) -> dict[str, object]:
        with self._lock:
            out = self._status.to_dict()
        out["versions"] = [asdict(v) for v in list_versions(self.settings.index_dir)]
        return out

    def start(self, actor: str) -> dict[str, object]:
        with self._lock:
            if self._status.state == "running":
                raise RebuildBusy("a rebuild is already running")
            self._status = RebuildStatus("running", "reading", 0.0, time.time(), requested_by=actor)
            self._thread = threading.Thread(target=self._run, name="kb-rebuild", daemon=True)
            self._thread.start()
        return self.status()

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def rollback(self) -> str:
        with self._lock:
            if self._status.state == "running":
                raise RebuildBusy("a rebuild is running")
            name = rollback(self.settings.index_dir)
        self._on_switched()
        return name

    def _progress(self, phase: str, share: float) -> None:
        with self._lock:
            self._status.phase = phase
            # reading 0-5 %, embedding 5-90 %, writing 90-97 %, switching and reload to 100 %
            spans = {"reading": (0.0, 0.05), "embedding": (0.05, 0.9), "writing": (0.9, 0.97)}
            low, high = spans.get(phase, (0.97, 1.0))
            self._status.progress = round(low + (high - low) * min(max(share, 0.0), 1.0), 3)

    def _run(self) -> None:
        try:
            result = build_index(self.settings, self._embedder(), force=True, on_progress=self._progress)
            self._progress("switching", 0.0)
            self._on_switched()
            with self._lock:
                self._status.version, self._status.chunks = result.version, result.chunks
                self._status.state, self._status.progress = "done", 1.0
        except Exception as exc:  # shown in the workbench; the live index is untouched
            with self._lock:
                self._status.state, self._status.error = "failed", f"{type(exc).__name__}: {exc}"[:300]
        finally:
            with self._lock:
                self._status.finished_at = time.time()
                final = RebuildStatus(**asdict(self._status))
            self._on_finished(final)
