"""Liveness of the whole assistant: Rasa, actions, index and database."""

from __future__ import annotations

import anyio
import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


async def _actions_ok(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            response = await client.get(url.rstrip("/") + "/health")
        return response.status_code == 200
    except httpx.HTTPError:
        return False


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 when every component answers; 503 naming the ones that do not."""
    state = request.app.state
    components: dict[str, str] = {}
    components["rasa"] = "ok" if await state.rasa.healthy() else "down"
    components["actions"] = "ok" if await _actions_ok(state.settings.action_server_url) else "down"
    components["index"] = "ok" if getattr(state, "knowledge_base", None) is not None else "down"
    try:
        await anyio.to_thread.run_sync(state.store.ping)
        components["database"] = "ok"
    except Exception:
        components["database"] = "down"
    failing = [name for name, status in components.items() if status != "ok"]
    body: dict[str, object] = {"status": "ok" if not failing else "degraded", "components": components}
    if failing:
        body["failing"] = failing
    return JSONResponse(body, status_code=200 if not failing else 503)
