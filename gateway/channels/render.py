"""Plain-text rendering of stored messages for channels without rich widgets."""

from __future__ import annotations

from typing import Any


def citations_text(message: dict[str, Any]) -> str:
    """Citations as a readable line, e.g. ``依据：《服务指南》3.2 标题``."""
    cites = [
        "《服务指南》" + str(c.get("section", "")) + (" " + str(c["title"]) if c.get("title") else "")
        for c in message.get("citations") or []
        if isinstance(c, dict)
    ]
    return "依据：" + "；".join(cites) if cites else ""


def message_text(message: dict[str, Any], *, with_buttons: bool = False) -> str:
    """The message text with its citations (and button titles for text-only channels)."""
    parts = [str(message.get("text") or "")]
    cites = citations_text(message)
    if cites:
        parts.append(cites)
    if with_buttons:
        titles = [str(b.get("title", "")) for b in message.get("buttons") or [] if isinstance(b, dict)]
        if titles:
            parts.append("您可以回复：" + " / ".join(titles))
    if isinstance(message.get("custom"), dict) and "csat" in message["custom"]:
        parts.append("请回复 1-5 分为本次服务评分。")
    return "\n".join(p for p in parts if p)
