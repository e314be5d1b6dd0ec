"""Settings of auto-assignment (``KEFU_ASSIGN_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AssignmentSettings(BaseSettings):
    """Auto-assignment of queued conversations; every field can be overridden by ``KEFU_ASSIGN_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="KEFU_ASSIGN_", extra="ignore")

    default_capacity: int = Field(
        default=0,
        ge=0,
        le=50,
        description="Conversations an online agent is given automatically when no supervisor set their "
        "capacity (0 = only manual claims until a supervisor sets one).",
    )
    sweep_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the queue is re-checked for auto-assignment besides on every queue, "
        "availability or capacity change (seconds).",
    )
