"""The real readiness checks of Rasa and the action server, shared by the supervisor and ``/healthz``.

Rasa is ready when ``/status`` names a loaded model (409 until then). The action server
is ready when ``action_kefu_health`` (actions.health) says it is warm: knowledge base and
embedder loaded, database writable. rasa-sdk's own ``/health`` only proves the port listens.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

HEALTH_ACTION = "action_kefu_health"
PROBE_TIMEOUT = 3.0


def actions_health_call() -> dict[str, Any]:
    """The ``/webhook`` body that runs the health action (a tracker of nobody, no domain)."""
    tracker = {
        "sender_id": "kefu-health",
        "slots": {},
        "latest_message": {},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    }
    return {"next_action": HEALTH_ACTION, "sender_id": "kefu-health", "tracker": tracker, "domain": {}}


def parse_actions_health(body: Any) -> dict[str, Any]:
    """The health report in an action server answer (``{}`` if there is none)."""
    if not isinstance(body, dict):
        return {}
    for response in body.get("responses") or []:
        custom = response.get("custom") if isinstance(response, dict) else None
        if isinstance(custom, dict) and isinstance(custom.get("kefu_health"), dict):
            return dict(custom["kefu_health"])
    return {}


def parse_rasa_status(body: Any) -> bool:
    return isinstance(body, dict) and bool(body.get("model_file") or body.get("model_id"))


def _json(url: str, data: dict[str, Any] | None = None) -> tuple[int | None, Any]:
    request = Request(url, data=None if data is None else json.dumps(data).encode(), method="GET")
    if data is not None:
        request.method = "POST"
        request.add_header("Content-Type", "application/json")
    try:
        with urlopen(request, timeout=PROBE_TIMEOUT) as response:
            raw = response.read()
            status = int(response.status)
    except HTTPError as exc:
        return int(exc.code), None
    except (URLError, OSError):
        return None, None
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def http_status(url: str) -> int | None:
    """The HTTP status ``url`` answers with (``None``: nothing answers)."""
    return _json(url)[0]


def _with_token(url: str, token: str) -> str:
    # Both internal services take their shared secret as ``?token=`` (see kefu.service_secrets).
    return f"{url}?{urlencode({'token': token})}" if token else url


def rasa_ready(base_url: str, token: str = "") -> tuple[bool, str]:
    status, body = _json(_with_token(base_url.rstrip("/") + "/status", token))
    if status == 200 and parse_rasa_status(body):
        return True, "model loaded"
    return False, "not answering" if status is None else f"no model loaded (HTTP {status})"


def actions_ready(base_url: str, token: str = "") -> tuple[bool, str]:
    status, body = _json(_with_token(base_url.rstrip("/") + "/webhook", token), actions_health_call())
    report = parse_actions_health(body)
    if status == 200 and report.get("warm"):
        return True, "warm"
    if status is None:
        return False, "not answering"
    return False, str(report.get("state") or report.get("error") or f"HTTP {status}")
