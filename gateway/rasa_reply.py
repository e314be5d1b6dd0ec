"""Rasa's REST answer, translated into the gateway's messages (text, buttons, citations, handoff)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.conversations import OutgoingMessage

NLU_KEY = "kefu_nlu"  # bot/channels/gateway_channel.py appends {"custom": {NLU_KEY: {...}}}


@dataclass
class BotReply:
    """Rasa's answer, translated: the messages to show and any handoff request."""

    messages: list[OutgoingMessage] = field(default_factory=list)
    handoff: dict[str, Any] | None = None
    # What Rasa understood ({"intent", "confidence"}), appended by the gateway channel for the reports.
    nlu: dict[str, Any] | None = None


def translate_rasa_messages(raw: list[dict[str, Any]]) -> BotReply:
    """Turn Rasa REST output into gateway messages.

    Actions send citations, CSAT prompts and handoff requests as ``custom`` JSON
    (see the README); citations attach to the bot text they belong to.
    """
    reply = BotReply()
    for item in raw:
        text = item.get("text") or ""
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in item.get("buttons") or []
            if isinstance(b, dict)
        ]
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else None
        if text or buttons:
            reply.messages.append(OutgoingMessage(sender="bot", text=text, buttons=buttons))
        if custom:
            custom = dict(custom)
            nlu = custom.pop(NLU_KEY, None)
            if isinstance(nlu, dict):
                reply.nlu = nlu
            handoff = custom.pop("handoff", None)
            if isinstance(handoff, dict):
                reply.handoff = handoff
            citations = custom.pop("citations", None)
            if reply.messages and (citations or custom):
                last = reply.messages[-1]
                merged_custom = {**last.custom, **custom}
                merged_citations = list(last.citations) + [
                    {"section": str(c.get("section", "")), "title": str(c.get("title", ""))}
                    for c in citations or []
                    if isinstance(c, dict)
                ]
                reply.messages[-1] = OutgoingMessage(
                    sender="bot",
                    text=last.text,
                    buttons=last.buttons,
                    citations=merged_citations,
                    custom=merged_custom,
                )
    return reply


__all__ = ["NLU_KEY", "BotReply", "translate_rasa_messages"]
