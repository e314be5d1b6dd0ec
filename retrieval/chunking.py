"""Section-aware chunking with stable ids; the title path is part of the embedded text."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

from retrieval.ingest import Document


@dataclass
class Chunk:
    """One retrievable passage."""

    chunk_id: str
    doc: str
    kind: str
    section: str
    title: str
    title_path: list[str]
    text: str
    extra_sections: list[str] = field(default_factory=list)

    @property
    def embed_text(self) -> str:
        """Titles first: customers ask about topics that the headings name.

        A typical question is embedded alone: it is matched question to question."""
        if self.kind == "question":
            return self.text
        return " / ".join(self.title_path) + "\n" + self.text

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


_NUM_PREFIX = re.compile(r"^(?:第\s*\d+\s*章|\d+(?:\.\d+)*)[\s、.．]*")


def stable_id(doc: str, section: str, text: str) -> str:
    return hashlib.sha1(f"{doc}\x00{section}\x00{text}".encode()).hexdigest()[:16]


def split_text(text: str, max_chars: int, overlap: int) -> list[str]:
    """Split at sentence ends into pieces of at most ~max_chars, overlapping by ~overlap chars."""
    if len(text) <= max_chars:
        return [text]
    sentences = [s for s in re.split(r"(?<=[。！？；\n])", text) if s.strip()]
    pieces: list[str] = []
    cur = ""
    for s in sentences:
        while len(s) > max_chars:
            s1, s = s[:max_chars], s[max_chars - overlap :]
            if cur:
                pieces.append(cur)
                cur = ""
            pieces.append(s1)
        if cur and len(cur) + len(s) > max_chars:
            pieces.append(cur)
            cur = cur[-overlap:] if overlap else ""
        cur += s
    if cur.strip():
        pieces.append(cur)
    return pieces


def chunk_documents(docs: list[Document], max_chars: int = 400, overlap: int = 60) -> list[Chunk]:
    chunks: list[Chunk] = []
    for doc in docs:
        for sec in doc.sections:
            # The heading without its number: citations show "3.4 反馈与跟进" as section + title.
            title = _NUM_PREFIX.sub("", sec.title_path[-1]) if sec.title_path else ""
            for piece in split_text(sec.text.strip(), max_chars, overlap):
                chunks.append(
                    Chunk(
                        stable_id(doc.path, sec.number, piece),
                        doc.path,
                        doc.kind,
                        sec.number,
                        title,
                        list(sec.title_path),
                        piece.strip(),
                        list(sec.extra_sections),
                    )
                )
    _title_questions(chunks)
    return chunks


def _title_questions(chunks: list[Chunk]) -> None:
    """Give typical questions the title of the guide section they belong to (shown in hits)."""
    titled = {}
    for c in chunks:
        if c.kind in ("guide", "seed") and c.section and c.section not in titled:
            titled[c.section] = c
    for c in chunks:
        if c.kind == "question" and c.section in titled:
            c.title, c.title_path = titled[c.section].title, list(titled[c.section].title_path)
