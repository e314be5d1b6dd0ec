"""A conversation's transcript as a file for staff (plain text or JSON), masked by the reader's role.

The private notes are in it only on request and marked as such: the file is for staff, and a
note must never read as if the customer had been told it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.agents.disclosure import sees_full_numbers, shown
from gateway.agents.notes import NoteView
from gateway.conversations import ConversationInfo, StoredMessage

SENDERS = {"customer": "客户", "bot": "智能助手", "agent": "人工客服", "system": "系统消息"}
FORMATS = {"txt": "text/plain; charset=utf-8", "json": "application/json"}


@dataclass(frozen=True)
class Transcript:
    filename: str
    media_type: str
    content: str


def _text(message: StoredMessage) -> str:
    display = message.custom.get("display") if message.custom else None
    return f"［按钮］{display}" if display else message.text


def _when(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if at else ""


def export(
    info: ConversationInfo,
    messages: list[StoredMessage],
    notes: list[NoteView],
    *,
    role: str,
    fmt: str = "txt",
    timezone: str = "Asia/Shanghai",
) -> Transcript:
    """The file of one conversation; ``notes`` (may be empty) are interleaved by time."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown transcript format {fmt!r}")
    zone = ZoneInfo(timezone)
    entries: list[tuple[datetime | None, int, dict[str, Any]]] = []
    for m in messages:
        entries.append(
            (
                m.created_at,
                0,
                {
                    "seq": m.seq,
                    "sender": m.sender,
                    "text": shown(_text(m), role),
                    "at": _when(m.created_at, zone),
                },
            )
        )
    for n in notes:
        entries.append(
            (
                n.created_at,
                1,
                {
                    "note": True,
                    "author": n.author,
                    "text": shown(n.text, role),
                    "at": _when(n.created_at, zone),
                },
            )
        )
    entries.sort(key=lambda e: (e[0] is None, e[0] or datetime.min.replace(tzinfo=zone), e[1]))
    lines = [e[2] for e in entries]
    name = f"transcript-{info.id[:12]}.{fmt}"
    masked = not sees_full_numbers(role)
    if fmt == "json":
        document = {
            "conversation_id": info.id,
            "channel": info.channel,
            "created_at": _when(info.created_at, zone),
            "masked": masked,
            "entries": lines,
        }
        return Transcript(name, FORMATS[fmt], json.dumps(document, ensure_ascii=False, indent=2))
    head = [
        f"会话 {info.id} · 渠道 {info.channel} · 开始于 {_when(info.created_at, zone)}",
        "号码已脱敏" if masked else "号码未脱敏（仅限主管查看，请勿外传）",
        "",
    ]
    body = [
        f"[{e['at']}] 【内部备注·{e['author']}】{e['text']}"
        if e.get("note")
        else f"[{e['at']}] {SENDERS.get(e['sender'], e['sender'])}：{e['text']}"
        for e in lines
    ]
    return Transcript(name, FORMATS[fmt], "\n".join(head + body) + "\n")
