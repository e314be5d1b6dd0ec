"""Readiness of the whole assistant: Rasa, actions, index and database, plus who restarted what.

``components`` are checked live (Rasa has a model loaded, the action server is warm, the
index is loaded, the database accepts a write); ``services`` is the supervisor's view
(``var/supervisor.json``: state, restarts, last exit code) and ``jobs`` the gateway's
background jobs. 200 only when every component is ok and no background job is down.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kefu.db import check_writable
from kefu.health_probes import PROBE_TIMEOUT, actions_health_call, parse_actions_health
from kefu.supervisor import STATE_FILE

router = APIRouter(tags=["health"])
STALE_SECONDS = 15.0  # the supervisor rewrites its state file every 2 s


async def _actions_state(url: str, token: str) -> str:
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT) as client:
            response = await client.post(
                url.rstrip("/") + "/webhook", params={"token": token}, json=actions_health_call()
            )
        report = parse_actions_health(response.json()) if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return "down"
    if report.get("warm"):
        return "ok"
    return "warming" if report.get("state") in ("cold", "warming") else "down"


def supervisor_state(var_dir: Path) -> dict[str, Any] | None:
    """The supervisor's last report, or None when the gateway runs without it."""
    try:
        body = json.loads((var_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    body["stale"] = time.time() - float(body.get("updated_at") or 0) > STALE_SECONDS
    return body


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 when every component answers; 503 naming the ones that do not."""
    state = request.app.state
    components: dict[str, str] = {}
    components["rasa"] = "ok" if await state.rasa.healthy() else "down"
    components["actions"] = await _actions_state(
        state.settings.action_server_url, state.settings.action_server_token.get_secret_value()
    )
    components["index"] = "ok" if getattr(state, "knowledge_base", None) is not None else "down"
    try:
        await anyio.to_thread.run_sync(check_writable, state.session_factory)
        components["database"] = "ok"
    except Exception:
        components["database"] = "down"
    failing = [name for name, status in components.items() if status != "ok"]
    jobs = state.jobs.status() if getattr(state, "jobs", None) is not None else {}
    failing += [f"job:{name}" for name, job in jobs.items() if job["state"] != "running"]
    body: dict[str, object] = {"status": "ok" if not failing else "degraded", "components": components}
    body["jobs"] = jobs
    supervised = supervisor_state(Path(state.settings.var_dir))
    if supervised is not None:
        body["services"] = supervised.get("services", {})
        body["supervisor"] = {"pid": supervised.get("supervisor_pid"), "stale": supervised["stale"]}
    router_ = getattr(state, "router", None)
    if router_ is not None:
        body["rasa_backlog"] = router_.backlog_size
    if failing:
        body["failing"] = failing
    return JSONResponse(body, status_code=200 if not failing else 503)
