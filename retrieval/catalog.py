"""What the live index holds, per document: its sections and chunk counts, and what a rebuild would change."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from retrieval.index_store import file_hash, load_chunks, read_manifest
from retrieval.ingest import discover
from retrieval.settings import RetrievalSettings
from retrieval.uploads import is_upload


@dataclass
class SectionInfo:
    section: str
    title: str
    chunks: int


@dataclass
class DocumentInfo:
    name: str
    kind: str  # guide | faq | seed | question | document
    path: str
    status: str  # indexed | changed (rebuild needed) | new (not indexed yet) | removed (still indexed)
    uploaded: bool
    chunks: int = 0
    sections: list[SectionInfo] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def list_documents(settings: RetrievalSettings) -> list[DocumentInfo]:
    """Every source document and every indexed one, with its status against the live index."""
    manifest = read_manifest(settings.index_dir) or {}
    indexed = manifest.get("documents")
    indexed_hashes: dict[str, str] = dict(indexed) if isinstance(indexed, dict) else {}
    per_doc: dict[str, list[tuple[str, str]]] = {}
    if manifest:
        for c in load_chunks(settings.index_dir.resolve()):
            per_doc.setdefault(c.doc, []).append((c.section, c.title))
    out: list[DocumentInfo] = []
    seen: set[str] = set()
    files = discover(settings.kb_dir, settings.extra_docs_dir, settings.seed_path, settings.uploads_dir)
    for path, kind in files:
        key = f"{kind}:{path}"
        seen.add(key)
        old = indexed_hashes.get(key)
        status = "new" if old is None else ("indexed" if old == file_hash(path) else "changed")
        out.append(_info(path, kind, status, is_upload(settings, path), per_doc.get(str(path), [])))
    for key in indexed_hashes:
        if key not in seen:
            kind, _, raw = key.partition(":")
            path = Path(raw)
            out.append(_info(path, kind, "removed", is_upload(settings, path), per_doc.get(raw, [])))
    return out


def _info(path: Path, kind: str, status: str, uploaded: bool, chunks: list[tuple[str, str]]) -> DocumentInfo:
    counts = Counter(chunks)
    sections = [SectionInfo(sec, title, n) for (sec, title), n in counts.items()]
    return DocumentInfo(path.name, kind, str(path), status, uploaded, len(chunks), sections)
