"""On-disk index: chunks.jsonl + dense.faiss + manifest.json per version (see index_versions)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.chunking import Chunk, chunk_documents
from retrieval.embedder import Embedder
from retrieval.index_versions import activate, current_version, finish_build, new_build_dir
from retrieval.ingest import discover, load_all
from retrieval.settings import RetrievalSettings
from retrieval.vector_index import VectorIndex, choose_type

MANIFEST = "manifest.json"


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_hashes(settings: RetrievalSettings) -> dict[str, str]:
    files = discover(settings.kb_dir, settings.extra_docs_dir, settings.seed_path, settings.uploads_dir)
    return {f"{kind}:{p}": file_hash(p) for p, kind in files}


def read_manifest(index_dir: Path) -> dict[str, object] | None:
    try:
        return dict(json.loads((index_dir / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def is_up_to_date(settings: RetrievalSettings) -> bool:
    """True when documents and index-shaping settings match the manifest."""
    m = read_manifest(settings.index_dir)
    return (
        m is not None
        and m.get("documents") == source_hashes(settings)
        and m.get("settings") == settings.index_fingerprint()
    )


@dataclass
class BuildResult:
    built: bool
    chunks: int
    seconds: float
    version: str = ""


Progress = Callable[[str, float], None]  # (phase, share done 0..1)
EMBED_BATCH = 64


def build_index(
    settings: RetrievalSettings,
    embedder: Embedder,
    *,
    force: bool = False,
    progress: bool = False,  # kept for callers; progress goes to on_progress
    on_progress: Progress | None = None,
) -> BuildResult:
    """Build only when something changed, into a new version folder, then switch over atomically."""
    report = on_progress or (lambda phase, share: None)
    if not force and is_up_to_date(settings):
        m = read_manifest(settings.index_dir) or {}
        live = current_version(settings.index_dir) or ""
        return BuildResult(False, int(str(m.get("chunks", 0))), 0.0, live)
    start = time.perf_counter()
    report("reading", 0.0)
    hashes = source_hashes(settings)
    files = discover(settings.kb_dir, settings.extra_docs_dir, settings.seed_path, settings.uploads_dir)
    chunks = chunk_documents(load_all(files), settings.max_chars, settings.overlap)
    if not chunks:
        raise ValueError(
            f"no documents to index under {settings.kb_dir} (guide/, faq/) or {settings.extra_docs_dir}"
        )
    texts = [c.embed_text for c in chunks]
    parts = []
    for i in range(0, len(texts), EMBED_BATCH):
        report("embedding", i / len(texts))
        parts.append(embedder.embed(texts[i : i + EMBED_BATCH]))
    vectors = np.concatenate(parts)
    report("writing", 1.0)
    tmp = new_build_dir(settings.index_dir)
    with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
    VectorIndex.build(vectors, settings.index_type).save(tmp / "dense.faiss")
    build_id = os.urandom(8).hex()
    manifest = {
        "model": embedder.name,
        "dimension": embedder.dimension,
        "documents": hashes,
        "settings": settings.index_fingerprint(),
        "chunks": len(chunks),
        "index_type": choose_type(len(chunks), settings.index_type),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_id": build_id,
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    version = finish_build(tmp, build_id)
    activate(settings.index_dir, version)
    return BuildResult(True, len(chunks), time.perf_counter() - start, version.name)


def load_chunks(index_dir: Path) -> list[Chunk]:
    with (index_dir / "chunks.jsonl").open(encoding="utf-8") as fh:
        return [Chunk(**json.loads(line)) for line in fh if line.strip()]
