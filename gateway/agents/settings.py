"""Settings of agent sign-in (``KEFU_AUTH_*``) and of the human queue (``KEFU_HANDOFF_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthSettings(BaseSettings):
    """Agent console sign-in; every field can be overridden by ``KEFU_AUTH_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="KEFU_AUTH_", extra="ignore")

    session_ttl_minutes: int = Field(
        default=480, ge=1, description="How long an agent's sign-in lasts (minutes, from sign-in)."
    )
    max_login_attempts: int = Field(
        default=5, ge=1, description="Failed sign-ins per username and IP before the sign-in is locked."
    )
    max_login_failures_per_ip: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins from one IP, whatever the usernames, before that IP is locked "
        "(password spraying).",
    )
    lockout_minutes: int = Field(
        default=15, ge=1, description="How long a sign-in stays locked after too many failures (minutes)."
    )
    min_password_length: int = Field(
        default=8, ge=4, description="Shortest password `gateway.users` accepts."
    )


class HandoffSettings(BaseSettings):
    """The human queue; every field can be overridden by ``KEFU_HANDOFF_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="KEFU_HANDOFF_", extra="ignore")

    working_hours: str = Field(
        default="08:00-22:00",
        description="When agents answer, HH:MM-HH:MM local time (00:00-24:00 = always); outside, "
        "customers in the queue may leave a message that becomes a ticket.",
    )
    timezone: str = Field(default="Asia/Shanghai", description="Time zone of the working hours.")


@lru_cache(maxsize=1)
def get_auth_settings() -> AuthSettings:
    return AuthSettings()


@lru_cache(maxsize=1)
def get_handoff_settings() -> HandoffSettings:
    return HandoffSettings()
