"""Gateway settings (``KEFU_*`` environment variables)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from kefu.settings import CommonSettings


class GatewaySettings(CommonSettings):
    """Everything the FastAPI gateway needs; inherits paths and service URLs."""

    max_message_chars: int = Field(default=2000, description="Longest customer message accepted.")
    rasa_timeout_seconds: float = Field(default=15.0, description="Timeout of one call to the Rasa server.")
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


@lru_cache(maxsize=1)
def get_gateway_settings() -> GatewaySettings:
    return GatewaySettings()
