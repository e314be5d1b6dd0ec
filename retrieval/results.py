"""What a search returns: hits, the response with the gate's decision, a quoted answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Hit:
    section: str
    title: str
    text: str
    score: float
    source: str
    chunk_id: str
    doc: str
    dense: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "section": self.section,
            "title": self.title,
            "text": self.text,
            "score": round(self.score, 4),
            "source": self.source,
        }


@dataclass
class SearchResponse:
    query: str
    hits: list[Hit]
    confident: bool

    def to_dict(self) -> dict[str, object]:
        return {"query": self.query, "hits": [h.to_dict() for h in self.hits]}


@dataclass
class KbAnswer:
    text: str
    citations: list[dict[str, str]] = field(default_factory=list)


def brief_quote(text: str, max_chars: int = 120) -> str:
    """First 1-2 sentences, cut at a sentence end."""
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"依据[:：]《服务指南》.*$", "", text)
    sentences = [s for s in re.split(r"(?<=[。！？；])", text) if s]
    out = ""
    for s in sentences[:2]:
        if out and len(out) + len(s) > max_chars:
            break
        out += s
    if not out:
        out = text[:max_chars]
    if len(out) > max_chars:
        out = out[:max_chars].rstrip("，,、") + "……"
    return out


@dataclass
class Trace:
    """One ranking with what answer selection and the gate read from it."""

    ranked: list[tuple[int, float, float]]
    dense: list[tuple[int, float]]
    sparse: list[tuple[int, float]]
    sections: list[tuple[str, float]]
    query_vector: object
