"""Settings of identity verification and subscriber accounts (``KEFU_OTP_*``, ``KEFU_ACCOUNTS_*``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OtpSettings(BaseSettings):
    """One-time code rules; the guide requires identity checks before account data is shown."""

    model_config = SettingsConfigDict(env_prefix="KEFU_OTP_", extra="ignore")

    code_length: int = Field(default=6, ge=4, le=10, description="Digits in a one-time SMS code.")
    ttl_seconds: int = Field(default=300, ge=30, description="Seconds a one-time code stays valid.")
    max_attempts: int = Field(
        default=3, ge=1, description="Wrong codes per phone (across new codes) before it is locked."
    )
    lockout_minutes: int = Field(
        default=15, ge=1, description="Minutes a phone stays locked after too many wrong codes."
    )
    resend_interval_seconds: int = Field(
        default=60, ge=0, description="Minimum seconds between two codes to the same phone (0 = no limit)."
    )
    daily_codes_per_phone: int = Field(
        default=5, ge=1, description="Codes sent to one phone in any 24 hours, at most."
    )
    daily_codes_per_conversation: int = Field(
        default=5, ge=1, description="Codes one conversation may request in any 24 hours (any phones)."
    )
    verified_ttl_minutes: int = Field(
        default=30, ge=1, description="Minutes a conversation stays verified after the right code."
    )
    sms_provider: str = Field(
        default="log",
        description='SMS provider: "log" writes each SMS to var/sms_outbox.jsonl (0600), logs no code.',
    )


class AccountsSettings(BaseSettings):
    """Where the development SMS outbox lives and which tariff catalogue prices accounts."""

    model_config = SettingsConfigDict(env_prefix="KEFU_ACCOUNTS_", extra="ignore")

    sms_outbox: Path | None = Field(
        default=None,
        description="JSON-lines outbox of the log SMS provider (default: <KEFU_VAR_DIR>/sms_outbox.jsonl).",
    )
    proposal_ttl_minutes: int = Field(
        default=10, ge=1, description="Minutes a proposed plan change / business request awaits confirmation."
    )


@lru_cache(maxsize=1)
def get_otp_settings() -> OtpSettings:
    return OtpSettings()


@lru_cache(maxsize=1)
def get_accounts_settings() -> AccountsSettings:
    return AccountsSettings()
