"""Settings of the supervisor reports (``KEFU_REPORTS_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportsSettings(BaseSettings):
    """Every field can be overridden by ``KEFU_REPORTS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="KEFU_REPORTS_", extra="ignore")

    timezone: str = Field(
        default="Asia/Shanghai", description="Time zone of the report days and of the hour-of-day chart."
    )
    sla_at_risk_hours: float = Field(
        default=4.0, gt=0, description="An open ticket due within this many hours counts as SLA at risk."
    )
    default_days: int = Field(default=7, ge=1, le=366, description="Days shown when no period is chosen.")
    rollup_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often the gateway rolls up the report hours that closed (seconds); "
        "hours not rolled up yet are counted from the stored events.",
    )
