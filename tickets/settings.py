"""Ticket settings from ``KEFU_TICKETS_*`` environment variables."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# 2026 Chinese public holidays (State Council notice); weekends listed in MAKEUP_WORKDAYS are worked (调休).
DEFAULT_HOLIDAYS_2026: tuple[date, ...] = (
    date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3),
    *(date(2026, 2, d) for d in range(15, 24)),
    date(2026, 4, 4), date(2026, 4, 5), date(2026, 4, 6),
    *(date(2026, 5, d) for d in range(1, 6)),
    date(2026, 6, 19), date(2026, 6, 20), date(2026, 6, 21),
    date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27),
    *(date(2026, 10, d) for d in range(1, 8)),
)  # fmt: skip
DEFAULT_MAKEUP_WORKDAYS_2026: tuple[date, ...] = (
    date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
    date(2026, 9, 20), date(2026, 10, 10),
)  # fmt: skip


class TicketSettings(BaseSettings):
    """Every field can be overridden by ``KEFU_TICKETS_<NAME>`` (lists as JSON)."""

    model_config = SettingsConfigDict(env_prefix="KEFU_TICKETS_", extra="ignore")

    holidays: list[date] = Field(
        default_factory=lambda: list(DEFAULT_HOLIDAYS_2026),
        description="Public holidays (no working day) as a JSON list of ISO dates; default: 2026 China.",
    )
    makeup_workdays: list[date] = Field(
        default_factory=lambda: list(DEFAULT_MAKEUP_WORKDAYS_2026),
        description="Weekend days that are worked (调休) as a JSON list of ISO dates; default: 2026 China.",
    )
    timezone: str = Field(default="Asia/Shanghai", description="Time zone of the working-day calendar.")
    incident_threshold: int = Field(
        default=3,
        ge=2,
        description="Fault reports from one district within the window that open an incident.",
    )
    incident_window_minutes: int = Field(
        default=60, ge=1, description="Window in which district fault reports are grouped into an incident."
    )
    duplicate_window_hours: int = Field(
        default=168,
        ge=0,
        description="A repeat report of the same problem by the same customer joins their open ticket "
        "opened within this many hours (0 = any open ticket).",
    )
    api_token: str = Field(
        default="",
        description="Bearer token accepted by /api/tickets until agent authentication lands (empty = none).",
    )
    overdue_check_seconds: int = Field(
        default=60, ge=1, description="How often the gateway marks overdue tickets."
    )


@lru_cache(maxsize=1)
def get_ticket_settings() -> TicketSettings:
    """Process-wide ticket settings (tests build their own)."""
    return TicketSettings()
