"""The only way into the bot: the gateway's input channel, guarded by a shared secret header.

It behaves like Rasa's REST channel (same request and response shape, ``metadata`` passed through
to the tracker) but refuses (401) any webhook call without the secret in
``X-Kefu-Channel-Secret`` (``KEFU_RASA_CHANNEL_SECRET``), so nobody on the host can talk to the
bot around the gateway (handoff lock, limits, history). Imported by Rasa 3.6 (Python 3.10) from
``bot/credentials.yml`` as ``bot.channels.gateway_channel.GatewayInput``; URL
``/webhooks/gateway/webhook``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.service_secrets import secret_matches

SECRET_HEADER = "X-Kefu-Channel-Secret"
SECRET_ENV = "KEFU_RASA_CHANNEL_SECRET"
NLU_KEY = "kefu_nlu"  # gateway/rasa_reply.py takes it off the answer (the reports' bot turns)
log = logging.getLogger(__name__)

# The parse of the message this request handled: (sender, parse data). Sanic runs a request's
# handler and its response middleware in one task, so the value set during the handler is read back
# by ``attach_intent``; it is cleared when each request starts (keep-alive reuses the task).
_PARSED: ContextVar[tuple[str, dict[str, Any]] | None] = ContextVar("kefu_parsed", default=None)


def remember_parses() -> None:
    """Keep each parse for the request's answer (called once by the Rasa process, bot/rasa_server.py).

    Without it the intent is read back from the saved tracker, which deserialises the whole
    conversation again on every message: 10 % of Rasa's CPU per chat message (py-spy).
    """
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.parse_message
    if getattr(original, "kefu_remembers", False):
        return

    async def parse_message(
        self: MessageProcessor,
        message: UserMessage,
        tracker: Any = None,
        only_output_properties: bool = True,
    ) -> dict[str, Any]:
        parsed: dict[str, Any] = await original(self, message, tracker, only_output_properties)
        _PARSED.set((str(message.sender_id), parsed))
        return parsed

    parse_message.kefu_remembers = True  # type: ignore[attr-defined]
    MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]


async def understood(request: Request) -> dict[str, Any] | None:
    """The intent Rasa recognised in the message just handled (its parse, else the saved tracker)."""
    agent = getattr(request.app.ctx, "agent", None)
    sender = (request.json or {}).get("sender")
    parsed, _ = _PARSED.get(), _PARSED.set(None)
    if agent is None or not isinstance(sender, str):
        return None
    if parsed is not None and parsed[0] == sender:
        intent = parsed[1].get("intent") or {}
    else:
        tracker = await agent.tracker_store.retrieve(sender)
        latest = tracker.latest_message if tracker is not None else None
        intent = (latest.intent or {}) if latest is not None else {}
    if not intent.get("name"):
        return None
    return {"intent": str(intent["name"]), "confidence": float(intent.get("confidence") or 0.0)}


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
            _PARSED.set(None)  # nothing from an earlier request on this connection
            if request.method == "GET" and request.path.rstrip("/").endswith(f"/{self.name()}"):
                return None  # the channel's own health route
            if secret_matches(request.headers.get(SECRET_HEADER), self.secret):
                return None
            return response.json({"error": "unauthorized"}, status=401)

        @blueprint.middleware("response")
        async def attach_intent(request: Request, answer: HTTPResponse) -> HTTPResponse | None:
            """Rasa's REST answer carries no intent: append it as one more custom message."""
            if request.method != "POST" or answer.status != 200 or not request.path.endswith("/webhook"):
                return None
            try:
                nlu = await understood(request)
                body = json.loads(answer.body or b"[]")
            except Exception:  # the reports lose a turn, the customer loses nothing
                log.exception("could not read the recognised intent")
                return None
            if nlu is None or not isinstance(body, list):
                return None
            body.append({"recipient_id": request.json.get("sender"), "custom": {NLU_KEY: nlu}})
            return response.json(body)

        return blueprint
