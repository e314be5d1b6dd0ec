"""What a customer may send, checked once for every entry point (HTTP, WebSocket).

Anything that cannot be stored or answered is refused here with a bilingual ``ApiError``
(422), before anything is stored: lone surrogates and NUL bytes (the database cannot hold
them), empty or over-long text, and rating payloads whose score is not an integer 1–5.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.errors import ApiError
from gateway.payload_labels import RATE_PAYLOAD_RE

# Sequence numbers are 32-bit database integers; anything above cannot exist.
MAX_SEQ = 2**31 - 1
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def storable(value: str) -> bool:
    """False for text the database cannot hold (lone surrogates, NUL)."""
    return _UNSTORABLE.search(value) is None


def clean_channel_text(text: str) -> str:
    """A platform's message (signed, so not refused): what cannot be stored becomes U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def check_text(text: object, max_chars: int) -> str:
    """The customer's text, stripped; ``ApiError`` if it is no text anyone can answer."""
    if not isinstance(text, str):
        raise ApiError(422, "invalid_text", "消息内容必须是文字", "The message text must be a string")
    if not storable(text):
        raise ApiError(
            422,
            "invalid_text",
            "消息包含无法识别的字符，请重新输入",
            "The message contains characters that are not valid text (surrogates or NUL)",
        )
    cleaned = text.strip()
    if not cleaned:
        raise ApiError(422, "empty_message", "消息不能为空", "Message must not be empty")
    if len(cleaned) > max_chars:
        raise ApiError(
            422,
            "message_too_long",
            f"消息过长，请控制在 {max_chars} 字以内",
            f"Message is longer than {max_chars} characters",
        )
    rating = RATE_PAYLOAD_RE.match(cleaned)
    if rating:
        check_rating(rating.group(1))
    return cleaned


def check_client_msg_id(value: object) -> str | None:
    """A client's retry id: a short printable string, or nothing."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ApiError(422, "invalid_client_msg_id", "消息编号格式错误", "client_msg_id must be a string")
    text = str(value)
    if len(text) > 64 or not storable(text) or not text.isprintable():
        raise ApiError(
            422,
            "invalid_client_msg_id",
            "消息编号格式错误（最多 64 个可见字符）",
            "client_msg_id must be at most 64 printable characters",
        )
    return text


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def check_rating(raw: str) -> dict[str, Any]:
    """The rating form's JSON: ``{"ticket_id": str, "score": 1..5, "comment"?: str}``."""
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        data = None
    score = data.get("score") if isinstance(data, dict) else None
    ticket = data.get("ticket_id") if isinstance(data, dict) else None
    comment = data.get("comment") if isinstance(data, dict) else None
    if (
        not isinstance(score, int)
        or isinstance(score, bool)
        or not 1 <= score <= 5
        or not isinstance(ticket, str)
        or not 0 < len(ticket) <= 64
        or not (comment is None or isinstance(comment, str))
    ):
        raise ApiError(
            422,
            "invalid_rating",
            "评分格式不正确：评分须为 1 到 5 的整数",
            "Invalid rating: the score must be an integer from 1 to 5 with a ticket_id",
        )
    assert isinstance(data, dict)
    return data
