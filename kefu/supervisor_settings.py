"""Restart policy of ``python -m kefu.supervisor`` (``KEFU_SUPERVISOR_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SupervisorSettings(BaseSettings):
    """How the supervisor restarts a crashed or hung service, and when it gives up on one."""

    model_config = SettingsConfigDict(env_prefix="KEFU_SUPERVISOR_", extra="ignore")

    backoff_seconds: float = Field(
        default=1.0, description="Wait before the first restart of a crashed service; doubles per crash."
    )
    max_backoff_seconds: float = Field(default=30.0, description="Longest wait between two restarts.")
    crash_limit: int = Field(
        default=5, ge=1, description="Crashes within the crash window after which a service is given up."
    )
    crash_window_seconds: float = Field(default=300.0, description="The crash-loop window.")
    hang_seconds: float = Field(
        default=60.0,
        description="A running service failing its health check this long is killed and restarted.",
    )
    probe_interval_seconds: float = Field(
        default=5.0, description="Health check interval of running services."
    )
