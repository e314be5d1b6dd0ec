"""BM25 over jieba tokens."""

from __future__ import annotations

from rank_bm25 import BM25Okapi

from retrieval.tokenizer import tokenize


class KeywordIndex:
    """Rebuilt from chunk texts at load (fast: a few hundred chunks)."""

    def __init__(self, texts: list[str]) -> None:
        self._docs = [tokenize(t) or ["∅"] for t in texts]
        self._bm25 = BM25Okapi(self._docs, k1=1.2, b=0.6)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        tokens = tokenize(query)
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])[:k]
        return [(i, float(scores[i])) for i in order if scores[i] > 0]

    def scores(self, query: str, ids: list[int]) -> list[float]:
        """BM25 (Okapi, as `search`) of `query` against the given documents only: answer selection's
        candidates, a few dozen dict lookups instead of a pass over every document."""
        tokens = tokenize(query)
        bm = self._bm25
        out = []
        for i in ids:
            freqs, norm = bm.doc_freqs[i], bm.k1 * (1 - bm.b + bm.b * bm.doc_len[i] / bm.avgdl)
            out.append(
                sum(
                    bm.idf.get(t, 0.0) * freqs[t] * (bm.k1 + 1) / (freqs[t] + norm)
                    for t in tokens
                    if t in freqs
                )
            )
        return out
