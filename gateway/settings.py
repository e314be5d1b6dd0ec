"""Gateway settings (``KEFU_*`` environment variables)."""

from __future__ import annotations

import logging
from functools import lru_cache

from pydantic import Field, model_validator

from kefu.settings import CommonSettings

log = logging.getLogger(__name__)


class GatewaySettings(CommonSettings):
    """Everything the FastAPI gateway needs; inherits paths and service URLs."""

    max_message_chars: int = Field(default=2000, description="Longest customer message accepted.")
    rasa_timeout_seconds: float = Field(
        default=10.0,
        description="Timeout of one call to the Rasa server; then the customer gets an apology with 转人工.",
    )
    action_timeout_seconds: float = Field(
        default=6.0,
        description="How long Rasa waits for a custom action (kefu.rasa_run); below the Rasa timeout.",
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

    @model_validator(mode="after")
    def _timeouts_nest(self) -> GatewaySettings:
        # Rasa must give up on a slow action before the gateway gives up on Rasa (see kefu.rasa_run).
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
