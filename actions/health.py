"""Readiness of the action server: knowledge base, embedder and database loaded before the first customer.

rasa-sdk's ``/health`` answers as soon as the web server listens, long before FAISS and the
embedding model are loaded. ``action_kefu_health`` is the real check (the supervisor and the
gateway's ``/healthz`` call it through ``/webhook``): its first call starts the warm-up in a
thread (load the index and the model, answer one question, write to the database), and it
reports ``warm`` only when that finished, so a restarted action server is warm before it
counts as up. It is never part of a story: Rasa does not know it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import knowledge_base, session_factory
from kefu.db import check_writable
from kefu.health_probes import HEALTH_ACTION

log = logging.getLogger(__name__)
WARMUP_QUESTION = "宽带坏了怎么报修"


class WarmUp:
    """One warm-up per process, started by the first health check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.state = "cold"  # cold | warming | warm | failed
        self.knowledge_base = "unknown"  # loaded | not_built | error
        self.error: str | None = None
        self.seconds: float | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self.state = "warming"
                self._thread = threading.Thread(target=self._run, name="kefu-warmup", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            from retrieval import IndexNotBuiltError

            try:
                knowledge_base().answer(WARMUP_QUESTION)  # index + model + first inference
                self.knowledge_base = "loaded"
            except IndexNotBuiltError as exc:  # answered "not found" until `make index`: nothing to load
                log.warning("knowledge base not built: %s", exc)
                self.knowledge_base = "not_built"
            database_writable()
        except Exception as exc:
            log.exception("action server warm-up failed")
            self.error = f"{type(exc).__name__}: {exc}"[:300]
            with self._lock:
                self.state = "failed"
                self._thread = None  # the next health check tries again
            return
        self.seconds = round(time.monotonic() - started, 2)
        self.state = "warm"
        log.info("action server warm in %.1fs (knowledge base %s)", self.seconds, self.knowledge_base)

    def report(self) -> dict[str, Any]:
        return {
            "warm": self.state == "warm",
            "state": self.state,
            "knowledge_base": self.knowledge_base,
            "error": self.error,
            "warmup_seconds": self.seconds,
        }


def database_writable() -> None:
    check_writable(session_factory())


WARMUP = WarmUp()


class ActionKefuHealth(Action):  # type: ignore[misc]
    def name(self) -> str:
        return HEALTH_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        WARMUP.start()
        report = WARMUP.report()
        if report["warm"]:
            try:
                await asyncio.to_thread(
                    database_writable
                )  # checked on every call: a locked or read-only DB is not healthy
            except Exception as exc:
                report = {**report, "warm": False, "database": f"{type(exc).__name__}: {exc}"[:200]}
        dispatcher.utter_message(json_message={"kefu_health": report})
        return []
