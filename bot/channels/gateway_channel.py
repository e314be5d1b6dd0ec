"""The only way into the bot: the gateway's input channel, guarded by a shared secret header.

It behaves like Rasa's REST channel (same request and response shape, ``metadata`` passed through
to the tracker) but refuses (401) any webhook call without the secret in
``X-Kefu-Channel-Secret`` (``KEFU_RASA_CHANNEL_SECRET``), so nobody on the host can talk to the
bot around the gateway (handoff lock, limits, history). Imported by Rasa 3.6 (Python 3.10) from
``bot/credentials.yml`` as ``bot.channels.gateway_channel.GatewayInput``; URL
``/webhooks/gateway/webhook``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.service_secrets import secret_matches

SECRET_HEADER = "X-Kefu-Channel-Secret"
SECRET_ENV = "KEFU_RASA_CHANNEL_SECRET"


class GatewayInput(RestInput):
    """REST-shaped channel that only the gateway (holder of the secret) may call."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError(f"the gateway channel needs a secret ({SECRET_ENV})")
        self.secret = secret

    @classmethod
    def name(cls) -> str:
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """The secret comes from the environment, so credentials.yml holds none."""
        return cls(os.environ.get(SECRET_ENV, "").strip())

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = (request.json or {}).get("metadata")
        return metadata if isinstance(metadata, dict) else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def require_secret(request: Request) -> HTTPResponse | None:
            if request.method == "GET" and request.path.rstrip("/").endswith(f"/{self.name()}"):
                return None  # the channel's own health route
            if secret_matches(request.headers.get(SECRET_HEADER), self.secret):
                return None
            return response.json({"error": "unauthorized"}, status=401)

        return blueprint
