"""Settings of the gateway's Prometheus endpoint (``KEFU_METRICS_*``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MetricsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_METRICS_", extra="ignore")

    token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token for the gateway's /metrics; empty: only direct loopback callers "
        "may read it.",
    )
