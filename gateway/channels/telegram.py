"""Telegram Bot API: parsing updates and sending messages (inline keyboards for buttons)."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.channels.render import message_text
from gateway.channels.settings import TelegramSettings

log = logging.getLogger(__name__)
CALLBACK_DATA_MAX = 64  # Telegram's limit on callback_data bytes


def quiet_url_logging() -> None:
    """httpx logs every request URL at INFO; Bot API URLs contain the bot token and WeChat URLs the
    access token, so those records must never be written."""
    logging.getLogger("httpx").setLevel(logging.WARNING)


class ChannelSendError(RuntimeError):
    """A platform API refused or failed a call; the dispatcher retries."""


def secret_ok(header: str | None, settings: TelegramSettings) -> bool:
    """Constant-time check of X-Telegram-Bot-Api-Secret-Token; no secret configured rejects all."""
    expected = settings.webhook_secret.get_secret_value()
    return bool(expected) and header is not None and hmac.compare_digest(header.encode(), expected.encode())


@dataclass(frozen=True)
class IncomingTelegram:
    """One customer input from an update: a text message or a pressed inline button."""

    chat_id: str
    text: str
    client_msg_id: str
    callback_query_id: str | None = None


def parse_update(update: dict[str, Any]) -> IncomingTelegram | None:
    """Text messages and callback queries; anything else (stickers, edits) is ignored."""
    update_id = update.get("update_id")
    msg = update.get("message")
    if isinstance(msg, dict) and isinstance(msg.get("text"), str) and isinstance(msg.get("chat"), dict):
        return IncomingTelegram(str(msg["chat"].get("id")), msg["text"], f"tg:{update_id}")
    cb = update.get("callback_query")
    if isinstance(cb, dict) and isinstance(cb.get("data"), str):
        chat = (cb.get("message") or {}).get("chat") or {}
        chat_id = chat.get("id", (cb.get("from") or {}).get("id"))
        return IncomingTelegram(str(chat_id), cb["data"], f"tg:{update_id}", str(cb.get("id")))
    return None


def render(message: dict[str, Any]) -> dict[str, Any]:
    """sendMessage parameters (without chat_id): text with citations, buttons as an inline keyboard."""
    params: dict[str, Any] = {"text": message_text(message) or "…"}
    rows = [
        [{"text": str(b.get("title", "")), "callback_data": _callback_data(str(b.get("payload", "")))}]
        for b in message.get("buttons") or []
        if isinstance(b, dict)
    ]
    csat = (message.get("custom") or {}).get("csat")
    if isinstance(csat, dict) and csat.get("ticket_id"):
        ticket = str(csat["ticket_id"])
        rows.append(
            [
                {
                    "text": "★" * n,
                    "callback_data": _callback_data(f'/rate_ticket{{"ticket_id":"{ticket}","score":{n}}}'),
                }
                for n in range(1, 6)
            ]
        )
    if rows:
        params["reply_markup"] = {"inline_keyboard": rows}
    return params


def _callback_data(payload: str) -> str:
    data = payload.encode()[:CALLBACK_DATA_MAX]
    return data.decode(errors="ignore")


class TelegramClient:
    """Calls ``{api_base}/bot{token}/{method}``; the URL (with the token) is never logged."""

    def __init__(self, settings: TelegramSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds)
        quiet_url_logging()

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        token = self.settings.bot_token.get_secret_value()
        url = f"{self.settings.api_base.rstrip('/')}/bot{token}/{method}"
        try:
            resp = await self._client.post(url, json=params)
        except httpx.HTTPError as exc:
            raise ChannelSendError(f"telegram {method}: {type(exc).__name__}") from None
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code != 200 or not isinstance(body, dict) or not body.get("ok"):
            desc = body.get("description") if isinstance(body, dict) else None
            raise ChannelSendError(f"telegram {method}: HTTP {resp.status_code} {desc or ''}".strip())
        return body

    async def send_message(self, chat_id: str, message: dict[str, Any]) -> None:
        await self.call("sendMessage", {"chat_id": chat_id, **render(message)})

    async def answer_callback(self, callback_query_id: str) -> None:
        try:
            await self.call("answerCallbackQuery", {"callback_query_id": callback_query_id})
        except ChannelSendError as exc:
            log.warning("answerCallbackQuery failed: %s", exc)

    async def aclose(self) -> None:
        await self._client.aclose()
