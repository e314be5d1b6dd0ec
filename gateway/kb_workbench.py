"""The KB workbench's services in the gateway: the rebuilder wired to the live knowledge base and the
audit log. Created on first use (``workbench(app)``); the routes only translate HTTP to these calls."""

from __future__ import annotations

import logging
import threading
from typing import Any

from fastapi import FastAPI

from gateway.agents.audit import AuditLog
from retrieval.embedder import Embedder
from retrieval.rebuild import Rebuilder, RebuildStatus
from retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)
_lock = threading.Lock()


class KbWorkbench:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        kb = getattr(app.state, "knowledge_base", None)
        # The knowledge base's own settings: the workbench builds exactly what it serves.
        self.settings: RetrievalSettings = kb.settings if kb is not None else RetrievalSettings()
        self.rebuilder = Rebuilder(self.settings, self._embedder, self._switched, self._finished)

    def audit(self) -> AuditLog:
        audit: AuditLog | None = getattr(self.app.state, "audit_log", None)
        if audit is None:
            audit = self.app.state.audit_log = AuditLog(self.app.state.session_factory)
        return audit

    def knowledge_base(self) -> Any:
        return getattr(self.app.state, "knowledge_base", None)

    def _embedder(self) -> Embedder:
        kb = self.knowledge_base()
        if kb is not None:
            embedder: Embedder = kb.embedder  # already loaded: no second model in memory
            return embedder
        from retrieval.embedder import make_embedder

        return make_embedder(self.settings)

    def _switched(self) -> None:
        """Serve the new live version at once (the index watcher and the action server follow)."""
        kb = self.knowledge_base()
        if kb is not None:
            kb.reload_if_changed()
            return
        from retrieval import get_knowledge_base

        self.app.state.knowledge_base = get_knowledge_base()

    def _finished(self, status: RebuildStatus) -> None:
        try:
            self.audit().record(
                actor=status.requested_by or "system",
                role="system",
                action="kb_rebuild_done" if status.state == "done" else "kb_rebuild_failed",
                detail={"version": status.version, "chunks": status.chunks, "error": status.error},
            )
        except Exception as exc:  # the rebuild itself is done; a lost audit line is logged
            log.error("audit of the KB rebuild failed: %s", exc)


def workbench(app: FastAPI) -> KbWorkbench:
    with _lock:
        found: KbWorkbench | None = getattr(app.state, "kb_workbench", None)
        if found is None:
            found = app.state.kb_workbench = KbWorkbench(app)
        return found
