"""One loaded index version: chunks, FAISS and BM25, what the gate and answer selection read.

Loaded whole, then swapped in by the KnowledgeBase (retrieval/knowledge_base.py), so a search never
sees half of a rebuilt version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from retrieval.answer_selection import AnswerSelector
from retrieval.chunking import Chunk
from retrieval.index_store import load_chunks, read_manifest
from retrieval.keyword_index import KeywordIndex
from retrieval.out_of_domain import OutOfDomainTerms, read_terms
from retrieval.vector_index import VectorIndex


class IndexNotBuiltError(RuntimeError):
    """No index on disk: run `python -m retrieval build`."""


@dataclass
class LoadedIndex:
    build_id: str
    chunks: list[Chunk]
    dense: VectorIndex
    bm25: KeywordIndex
    section_chunk: dict[str, int]  # first guide/FAQ passage of each section (shown for question hits)
    has_questions: bool  # typical questions indexed: they decide confidence (see _confident)
    out_of_domain: OutOfDomainTerms  # other organisations' names the gate looks for
    section_keys: list[str]  # per chunk: the section it votes for (its own id when it has none)
    kinds: list[str]  # per chunk: guide, seed, faq, question, document
    sources: list[str]  # per chunk: its document's file name (what a hit shows as its source)
    faq_chunks: dict[str, Chunk]  # chunk id -> FAQ chunk (an answer cites all its 依据 sections)
    guide_titles: dict[str, str]  # section -> title of its first guide passage (what a citation names)
    selector: AnswerSelector | None = None  # set once the embedder is there (FAQ questions embedded)


def load_index(index_dir: Path, out_of_domain_path: Path) -> LoadedIndex:
    index_dir = index_dir.resolve()  # one version, even if the live link is switched meanwhile
    manifest = read_manifest(index_dir)
    if manifest is None or not (index_dir / "dense.faiss").exists():
        raise IndexNotBuiltError(
            f"no retrieval index in {index_dir}: run `.venv/bin/python -m retrieval build`"
        )
    chunks = load_chunks(index_dir)
    return LoadedIndex(
        str(manifest.get("build_id")),
        chunks,
        VectorIndex.load(index_dir / "dense.faiss"),
        KeywordIndex([c.embed_text for c in chunks]),
        section_chunks(chunks),
        any(c.kind == "question" for c in chunks),
        OutOfDomainTerms.build(read_terms(out_of_domain_path), (c.text for c in chunks)),
        [c.section or c.chunk_id for c in chunks],
        [c.kind for c in chunks],
        [Path(c.doc).name for c in chunks],
        first_by(chunks, lambda c: c.chunk_id if c.kind == "faq" else None),
        {
            s: c.title
            for s, c in first_by(chunks, lambda c: c.section if c.kind in ("guide", "seed") else None).items()
        },
    )


def first_by(chunks: list[Chunk], key: Callable[[Chunk], str | None]) -> dict[str, Chunk]:
    """The first chunk of each key (None: left out), looked up per answer instead of scanned for."""
    out: dict[str, Chunk] = {}
    for c in chunks:
        k = key(c)
        if k is not None and k not in out:
            out[k] = c
    return out


def stored_vectors(index: faiss.Index) -> np.ndarray:
    """Every chunk's vector read back from FAISS once per load (answer selection scores each
    candidate passage against the question; the top-k dense hits are mostly typical questions)."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.make_direct_map()
    return np.ascontiguousarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)


def section_chunks(chunks: list[Chunk]) -> dict[str, int]:
    """Guide passages first, then FAQ answers, then other documents."""
    out: dict[str, int] = {}
    for kind_rank in (("guide", "seed"), ("faq",), ("document",)):
        for i, c in enumerate(chunks):
            if c.kind in kind_rank and c.section and c.section not in out:
                out[c.section] = i
    return out
