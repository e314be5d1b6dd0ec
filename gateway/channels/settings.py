"""Channel settings (``KEFU_WEBCHAT_*``, ``KEFU_TELEGRAM_*``, ``KEFU_WECHAT_*``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebchatSettings(BaseSettings):
    """Web chat page and embeddable widget."""

    model_config = SettingsConfigDict(env_prefix="KEFU_WEBCHAT_", extra="ignore")

    title: str = Field(default="在线客服", description="Title shown on the chat panel.")
    reconnect_max_seconds: float = Field(
        default=10.0, description="Longest pause between WebSocket reconnect attempts in the browser."
    )


class TelegramSettings(BaseSettings):
    """Telegram Bot API webhook and sender."""

    model_config = SettingsConfigDict(env_prefix="KEFU_TELEGRAM_", extra="ignore")

    enabled: bool = Field(default=True, description="Accept webhook calls and send replies to Telegram.")
    bot_token: SecretStr = Field(
        default=SecretStr(""), description="Bot token from @BotFather (never logged)."
    )
    webhook_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Value Telegram sends in X-Telegram-Bot-Api-Secret-Token; empty rejects every call.",
    )
    api_base: str = Field(default="https://api.telegram.org", description="Bot API base URL.")
    timeout_seconds: float = Field(default=10.0, description="Timeout of one Bot API call.")
    max_attempts: int = Field(default=5, description="Attempts to deliver one message before giving up.")


class WechatSettings(BaseSettings):
    """WeChat Official Account server URL and customer-service message API."""

    model_config = SettingsConfigDict(env_prefix="KEFU_WECHAT_", extra="ignore")

    enabled: bool = Field(default=True, description="Accept WeChat server calls and send messages.")
    token: SecretStr = Field(
        default=SecretStr(""), description="Server-URL token configured in the WeChat admin (signatures)."
    )
    app_id: str = Field(
        default="", description="Official Account AppID (access token; checked inside encrypted messages)."
    )
    encoding_aes_key: SecretStr = Field(
        default=SecretStr(""),
        description="EncodingAESKey (43 characters) of the safe mode (encrypt_type=aes); empty: plaintext.",
    )
    require_encryption: bool = Field(
        default=False, description="Safe mode only: refuse plaintext messages (needs the EncodingAESKey)."
    )
    timestamp_window_seconds: int = Field(
        default=300, ge=30, description="Signed calls older or newer than this are refused (replays)."
    )
    app_secret: SecretStr = Field(default=SecretStr(""), description="Official Account AppSecret.")
    api_base: str = Field(default="https://api.weixin.qq.com", description="WeChat API base URL.")
    passive_reply_seconds: float = Field(
        default=4.0,
        description="How long to wait for the bot before answering 'success' and replying later (limit 5 s).",
    )
    timeout_seconds: float = Field(default=10.0, description="Timeout of one WeChat API call.")
    max_attempts: int = Field(default=5, description="Attempts to deliver one message before giving up.")


class DeliverySettings(BaseSettings):
    """Delivery of bot and agent messages to Telegram and WeChat."""

    model_config = SettingsConfigDict(env_prefix="KEFU_CHANNELS_", extra="ignore")

    resend_window_hours: float = Field(
        default=24.0,
        description="After a gateway restart, messages not yet delivered to a platform are sent again "
        "if their conversation was active within this many hours.",
    )
