"""Gateway settings (``KEFU_*`` environment variables)."""

from __future__ import annotations

import logging
from functools import lru_cache

from pydantic import Field, SecretStr, model_validator

from kefu.settings import CommonSettings

log = logging.getLogger(__name__)


class GatewaySettings(CommonSettings):
    """Everything the FastAPI gateway needs; inherits paths and service URLs."""

    max_message_chars: int = Field(default=2000, description="Longest customer message accepted.")
    rasa_timeout_seconds: float = Field(
        default=10.0,
        description="Timeout of one call to the Rasa server; then the customer gets an apology with 转人工.",
    )
    rasa_max_in_flight: int = Field(
        default=8,
        ge=1,
        description="Messages this gateway has at one Rasa replica at once; more wait in the gateway (at "
        "most the Rasa timeout, then they are kept and answered later), so that under overload Rasa "
        "does not spend its time on answers the customer was already told had failed.",
    )
    rasa_replica_urls: list[str] = Field(
        default_factory=list,
        description="Rasa replicas of a cluster (JSON list); each conversation is pinned to one by "
        "consistent hashing and moves to the next only when it is down. Empty: KEFU_RASA_URL alone.",
    )
    redis_url: SecretStr = Field(
        default=SecretStr(""),
        description="Redis shared by the gateways of a cluster (hub, per-conversation locks, channel "
        "sender), redis://:password@host:port/db; empty: one gateway, all in memory.",
    )
    gateway_id: str = Field(
        default="",
        description="This gateway's name in a cluster (logs, Redis leases); empty: host:pid:random.",
    )
    coordination_lease_seconds: float = Field(
        default=15.0,
        gt=1,
        description="Lease of a conversation's Redis lock; a gateway that dies holding it blocks the "
        "conversation at most this long.",
    )
    delivery_lease_seconds: float = Field(
        default=30.0,
        gt=1,
        description="Lease of a conversation's Telegram/WeChat sender in a cluster; another gateway takes "
        "over the deliveries after it runs out.",
    )
    action_timeout_seconds: float = Field(
        default=6.0,
        description="How long Rasa waits for a custom action (bot.rasa_server); below the Rasa timeout.",
    )
    history_retention_days: int = Field(
        default=30, description="How long a conversation's history is shown again to the customer."
    )
    queue_avg_handle_minutes: float = Field(
        default=4.0, description="Average minutes an agent needs per waiting customer (wait estimate)."
    )
    load_knowledge_base: bool = Field(
        default=True, description="Load the retrieval index at start (KB search, agent assist)."
    )
    allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8000", "http://localhost:8000"],
        description="Sites allowed to embed the web chat (CORS / WebSocket origin check), JSON list.",
    )
    # --- the public surface: limits, client address, customer secret (README "Security")
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest HTTP request body; larger ones get 413 unread."
    )
    rate_requests_per_ip_minute: int = Field(
        default=300, ge=1, description="API and WebSocket requests per client IP per minute (429 beyond)."
    )
    rate_conversations_per_ip_hour: int = Field(
        default=30, ge=1, description="New web-chat conversations per client IP per hour (429 beyond)."
    )
    rate_messages_per_conversation_minute: int = Field(
        default=20, ge=1, description="Customer messages per conversation per minute, HTTP and WebSocket."
    )
    ws_max_frame_bytes: int = Field(
        default=16 * 1024, ge=256, description="Largest WebSocket frame a customer may send (closes 1009)."
    )
    ws_frames_per_minute: int = Field(
        default=60, ge=1, description="WebSocket frames one customer socket may send per minute."
    )
    rate_limit_max_keys: int = Field(
        default=100_000, ge=100, description="Rate-limit buckets kept in memory (least recently used out)."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses/networks of reverse proxies whose X-Forwarded-For is believed, JSON list; "
        "empty: the TCP peer is the client.",
    )
    customer_token_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Key of the web-chat customer tokens; empty: a random key in var/secrets/.",
    )
    api_docs: bool = Field(
        default=False, description="Serve /docs, /redoc and /openapi.json (off in production)."
    )

    @model_validator(mode="after")
    def _timeouts_nest(self) -> GatewaySettings:
        # Rasa must give up on a slow action before the gateway gives up on Rasa (see bot.rasa_server).
        # A warning, not an error: tests against a Rasa that is down use tiny Rasa timeouts.
        if self.action_timeout_seconds >= self.rasa_timeout_seconds:
            log.warning(
                "KEFU_ACTION_TIMEOUT_SECONDS (%s) should be below KEFU_RASA_TIMEOUT_SECONDS (%s): "
                "a slow action may finish after the customer was told it failed",
                self.action_timeout_seconds,
                self.rasa_timeout_seconds,
            )
        return self


@lru_cache(maxsize=1)
def get_gateway_settings() -> GatewaySettings:
    return GatewaySettings()
