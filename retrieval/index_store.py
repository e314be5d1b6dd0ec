"""On-disk index: chunks.jsonl + dense.faiss + manifest.json, written atomically (temp dir, then rename)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from retrieval.chunking import Chunk, chunk_documents
from retrieval.embedder import Embedder
from retrieval.ingest import discover, load_all
from retrieval.settings import RetrievalSettings
from retrieval.vector_index import VectorIndex, choose_type

MANIFEST = "manifest.json"


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_hashes(settings: RetrievalSettings) -> dict[str, str]:
    files = discover(settings.kb_dir, settings.extra_docs_dir, settings.seed_path)
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


def build_index(
    settings: RetrievalSettings, embedder: Embedder, *, force: bool = False, progress: bool = True
) -> BuildResult:
    """Build only when something changed; swap the new directory in atomically."""
    if not force and is_up_to_date(settings):
        m = read_manifest(settings.index_dir) or {}
        return BuildResult(False, int(str(m.get("chunks", 0))), 0.0)
    start = time.perf_counter()
    hashes = source_hashes(settings)
    files = discover(settings.kb_dir, settings.extra_docs_dir, settings.seed_path)
    chunks = chunk_documents(load_all(files), settings.max_chars, settings.overlap)
    if not chunks:
        raise ValueError(
            f"no documents to index under {settings.kb_dir} (guide/, faq/) or {settings.extra_docs_dir}"
        )
    vectors = embedder.embed([c.embed_text for c in chunks], progress=progress)
    settings.index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".index-", dir=settings.index_dir.parent))
    with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
    VectorIndex.build(vectors, settings.index_type).save(tmp / "dense.faiss")
    manifest = {
        "model": embedder.name,
        "dimension": embedder.dimension,
        "documents": hashes,
        "settings": settings.index_fingerprint(),
        "chunks": len(chunks),
        "index_type": choose_type(len(chunks), settings.index_type),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_id": os.urandom(8).hex(),
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    old = settings.index_dir.with_name(settings.index_dir.name + ".old")
    if settings.index_dir.exists():
        shutil.rmtree(old, ignore_errors=True)
        settings.index_dir.rename(old)
    tmp.rename(settings.index_dir)
    shutil.rmtree(old, ignore_errors=True)
    return BuildResult(True, len(chunks), time.perf_counter() - start)


def load_chunks(index_dir: Path) -> list[Chunk]:
    with (index_dir / "chunks.jsonl").open(encoding="utf-8") as fh:
        return [Chunk(**json.loads(line)) for line in fh if line.strip()]
