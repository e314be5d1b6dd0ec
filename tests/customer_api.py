"""Test clients that act as the web chat does: keep each conversation's customer token and send it.

``POST /api/conversations`` returns the token; the hooks remember it and add ``X-Customer-Token``
to every later request on that conversation (as ``gateway/static/chat.js`` does).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from gateway.settings import GatewaySettings

NOBODY = "http://127.0.0.1:9"  # nothing listens there: the bot (or the action server) is down

_CONVERSATION = re.compile(r"/api/conversations/([^/?]+)")


def remember_customer_tokens(client: httpx.Client) -> dict[str, str]:
    """Install the hooks on ``client``; returns the id -> token map (for WebSocket URLs)."""
    tokens: dict[str, str] = {}

    def on_request(request: httpx.Request) -> None:
        found = _CONVERSATION.search(request.url.path)
        if found and found.group(1) in tokens and "x-customer-token" not in request.headers:
            request.headers["X-Customer-Token"] = tokens[found.group(1)]

    def on_response(response: httpx.Response) -> None:
        request = response.request
        if (
            request.method == "POST"
            and request.url.path == "/api/conversations"
            and response.status_code == 201
        ):
            response.read()
            body = response.json()
            tokens[str(body["conversation_id"])] = str(body["customer_token"])

    client.event_hooks["request"].append(on_request)
    client.event_hooks["response"].append(on_response)
    return tokens


def gateway_settings(var_dir: Path, rasa_url: str = NOBODY, **overrides: Any) -> GatewaySettings:
    """Settings of an in-process test gateway: no knowledge base, short Rasa timeouts."""
    values: dict[str, Any] = {
        "var_dir": var_dir,
        "rasa_url": rasa_url,
        "action_server_url": NOBODY,
        "load_knowledge_base": False,
        "rasa_timeout_seconds": 2,
    }
    return GatewaySettings(**(values | overrides))
