"""``GET /widget/frame``: the chat page for the embeddable widget's iframe.

Only the gateway itself and the configured sites (``KEFU_ALLOWED_ORIGINS``) may frame it
(``Content-Security-Policy: frame-ancestors``); the WebSocket checks the same list.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from gateway.edge import PAGE_CSP

router = APIRouter(tags=["webchat"])
INDEX = Path(__file__).resolve().parents[2] / "static" / "index.html"


def frame_ancestors(allowed: list[str]) -> str:
    """CSP value; origins with quotes, spaces or semicolons are dropped rather than trusted."""
    safe = [o.rstrip("/") for o in allowed if o and not any(c in o for c in " ;,'\"")]
    return "frame-ancestors 'self' " + " ".join(safe) if safe else "frame-ancestors 'self'"


def widget_csp(allowed: list[str]) -> str:
    """The chat page's policy, except that the allowed sites may frame it."""
    return PAGE_CSP.replace("frame-ancestors 'none'", frame_ancestors(allowed))


@router.get("/widget/frame", response_class=HTMLResponse, include_in_schema=False)
async def widget_frame(request: Request) -> HTMLResponse:
    page = INDEX.read_text(encoding="utf-8").replace('<main class="chat"', '<main class="chat embedded"', 1)
    headers = {"Content-Security-Policy": widget_csp(list(request.app.state.settings.allowed_origins))}
    return HTMLResponse(page, headers=headers)
