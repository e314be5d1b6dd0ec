"""KnowledgeBase: hybrid search, confident answers, hot reload; one per process."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from retrieval.answer_selection import AnswerSelector
from retrieval.chunking import Chunk
from retrieval.embedder import Embedder, make_embedder
from retrieval.fusion import rrf, weighted
from retrieval.gate import GateScores, gate_scores, passes
from retrieval.index_store import MANIFEST, read_manifest
from retrieval.kb_state import IndexNotBuiltError, LoadedIndex, load_index, stored_vectors
from retrieval.quoting import answer_quote
from retrieval.results import Hit, KbAnswer, SearchResponse, Trace, brief_quote
from retrieval.settings import RetrievalSettings
from retrieval.tokenizer import clean_query, normalize_query

log = logging.getLogger(__name__)


class KnowledgeBase:
    """Loads model and index once; `reload_if_changed` swaps in a rebuilt index without downtime."""

    def __init__(self, settings: RetrievalSettings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or RetrievalSettings()
        self._state = load_index(self.settings.index_dir, self.settings.out_of_domain_path)
        self.embedder = embedder or make_embedder(self.settings)
        self._with_selector(self._state)
        self._lock = threading.Lock()
        self._checked_at = time.monotonic()
        self._reloading = False

    @property
    def chunks(self) -> list[Chunk]:
        return self._state.chunks

    @property
    def build_id(self) -> str:
        return self._state.build_id

    def reload_if_changed(self) -> bool:
        """Reload when the live version's build id changed; searches use the old state until the swap."""
        manifest = read_manifest(self.settings.index_dir)
        if manifest is None or str(manifest.get("build_id")) == self._state.build_id:
            return False
        with self._lock:
            new = load_index(self.settings.index_dir, self.settings.out_of_domain_path)
            if new.build_id == self._state.build_id:
                return False
            self._with_selector(new)
            self._state = new
        return True

    def refresh_in_background(self) -> None:
        """Called between requests: at most every ``reload_check_seconds`` look at the live version and,
        if it changed (a rebuild or a rollback from the workbench), load it in a thread while this
        process keeps answering from the old one."""
        now = time.monotonic()
        if self._reloading or now - self._checked_at < self.settings.reload_check_seconds:
            return
        self._checked_at = now
        manifest = read_manifest(self.settings.index_dir)
        if manifest is None or str(manifest.get("build_id")) == self._state.build_id:
            return
        self._reloading = True

        def run() -> None:
            try:
                self.reload_if_changed()
            except Exception as exc:  # a broken version must not stop the answers from the old one
                log.warning("index reload failed: %s", exc)
            finally:
                self._reloading = False

        threading.Thread(target=run, name="kb-reload", daemon=True).start()

    def rank(self, query: str, mode: str = "hybrid", k: int | None = None) -> list[tuple[int, float, float]]:
        """(chunk index, fused score, dense cosine) best first, one entry per section; mode dense|bm25|hybrid.

        Chunks vote for their section with their fused score (FAQ answers and typical questions
        weighted); a section is shown by its best-scoring passage, so the top hits are distinct
        sections rather than three pieces of the same one.
        """
        return self._rank(query, mode, k).ranked

    def _with_selector(self, state: LoadedIndex) -> None:
        questions = AnswerSelector.faq_questions(state.chunks)
        vectors = self.embedder.embed(questions) if questions else np.zeros((0, 1), dtype=np.float32)
        bm25 = state.bm25
        state.selector = AnswerSelector(
            state.chunks,
            vectors,
            stored_vectors(state.dense.index),
            lambda question, ids: bm25.scores(normalize_query(question), ids),
        )

    def _rank(self, query: str, mode: str, k: int | None) -> Trace:
        """The ranking and the raw candidates (which the gate and answer selection read)."""
        s, state = self.settings, self._state
        q = normalize_query(query)
        n = min(s.candidates, len(state.chunks))
        qvec = self.embedder.embed([q])[0] if mode != "bm25" else None
        dense = state.dense.search(qvec, n) if qvec is not None else []
        cos = dict(dense)
        sparse: list[tuple[int, float]] = []
        if mode == "dense":
            fused = dense
        else:
            sparse = state.bm25.search(q, n)
            if mode == "bm25":
                fused = sparse
            elif s.fusion == "rrf":
                fused = rrf([dense, sparse], [s.dense_weight, s.bm25_weight], s.rrf_k)
            else:
                fused = weighted([dense, sparse], [s.dense_weight, s.bm25_weight])
        weight = {"faq": s.faq_weight, "question": s.question_weight}
        # Section key and kind per chunk come from lists built at load: this loop runs over up to
        # 160 fused candidates per query. Sections keep the order first met in (ties sort stably).
        keys, kinds = state.section_keys, state.kinds
        best: dict[str, float] = {}  # section -> its best weighted score
        best_cos: dict[str, float] = {}  # section -> its best dense cosine
        shown: dict[str, int | None] = {}  # section -> its first passage (not a typical question)
        for i, sc in fused:
            key, kind, c = keys[i], kinds[i], cos.get(i, 0.0)
            score = sc * weight.get(kind, 1.0)
            if key not in best:
                best[key], best_cos[key], shown[key] = score, c, None if kind == "question" else i
                continue
            if score > best[key]:
                best[key] = score
            if c > best_cos[key]:
                best_cos[key] = c
            if shown[key] is None and kind != "question":
                shown[key] = i
        ranked = sorted(best, key=lambda key: -best[key])[: k or s.top_k]
        sections = [(key, best[key]) for key in ranked]
        out = []
        for key in ranked:
            passage = shown[key]
            if passage is None:
                passage = state.section_chunk.get(key)
            if passage is not None:
                out.append((passage, best[key], best_cos[key]))
        return Trace(out, dense, sparse, sections, qvec)

    def explain(self, query: str, k: int | None = None) -> tuple[Trace, SearchResponse]:
        """The ranking with its raw dense and BM25 candidates, and the gate's decision (hit testing)."""
        trace = self._rank(query, "hybrid", k)
        return trace, self._response(query, trace)

    def search(self, query: str, k: int | None = None) -> SearchResponse:
        return self._response(query, self._rank(query, "hybrid", k))

    def _response(self, query: str, trace: Trace) -> SearchResponse:
        ranked, dense, chunks, sources = trace.ranked, trace.dense, self._state.chunks, self._state.sources
        hits = [
            Hit(
                chunks[i].section,
                chunks[i].title,
                chunks[i].text,
                sc,
                sources[i],
                chunks[i].chunk_id,
                chunks[i].doc,
                cs,
            )
            for i, sc, cs in ranked
        ]
        return SearchResponse(query, hits, bool(hits) and self._confident(query, dense))

    def gate_scores(self, query: str) -> GateScores:
        """What the gate compares (hit testing and scripts/kb_gate_curve.py)."""
        state = self._state
        return gate_scores(query, self._rank(query, "hybrid", 3).dense, state.chunks, state.out_of_domain)

    def _confident(self, query: str, dense: list[tuple[int, float]]) -> bool:
        state = self._state
        return passes(
            gate_scores(query, dense, state.chunks, state.out_of_domain),
            self.settings,
            state.has_questions,
            state.bm25,
            query,
        )

    def answer(self, query: str) -> KbAnswer | None:
        """A short reply quoting the passage that answers the question, or None when not confident."""
        trace = self._rank(query, "hybrid", self.settings.answer_sections)
        resp = self._response(query, trace)
        if not resp.confident:
            return None
        best = resp.hits[0]
        selector, chunks = self._state.selector, self._state.chunks
        asked = clean_query(query)  # selection reads simplified text: 多少錢 asks a price as 多少钱 does
        opener = True
        if selector is not None and trace.query_vector is not None:
            i = selector.select(asked, np.asarray(trace.query_vector), trace.sections)
            if i is not None:
                c = chunks[i]
                best = Hit(c.section, c.title, c.text, best.score, self._state.sources[i], c.chunk_id, c.doc)
                opener = selector.keeps_opener(i, asked, np.asarray(trace.query_vector))
        section_title = best.title
        sections = [best.section] if best.section else []
        faq = self._faq_chunk(best) if best.doc else None
        if faq is not None:
            section_title = self._guide_title(best.section) or best.title
            # An FAQ answer states the facts of every section its 依据 line names, and the quote may
            # lead with a later one's (the 24-hour limit of 3.4.2 before 7.1's levels): cite them all.
            sections += [s for s in faq.extra_sections if s not in sections]
        quote = answer_quote(best.text, asked, opener=opener)
        text = f"{quote}（依据《服务指南》{'、'.join(sections)}）" if sections else quote
        cites = [{"section": best.section, "title": section_title}] if best.section else []
        cites += [{"section": s, "title": self._guide_title(s) or ""} for s in sections[1:]]
        return KbAnswer(text, cites)

    def _faq_chunk(self, hit: Hit) -> Chunk | None:
        return self._state.faq_chunks.get(hit.chunk_id)

    def _guide_title(self, section: str) -> str | None:
        return self._state.guide_titles.get(section)


_instance: KnowledgeBase | None = None
_instance_lock = threading.Lock()


def get_knowledge_base() -> KnowledgeBase:
    """Process-wide singleton; raises IndexNotBuiltError when no index is on disk."""
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = KnowledgeBase()
        return _instance


__all__ = [
    "MANIFEST",
    "Hit",
    "IndexNotBuiltError",
    "KbAnswer",
    "KnowledgeBase",
    "SearchResponse",
    "brief_quote",
    "get_knowledge_base",
]
