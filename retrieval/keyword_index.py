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
        """BM25 of `query` against the given documents only (answer selection's candidates)."""
        tokens = tokenize(query)
        if not tokens or not ids:
            return [0.0] * len(ids)
        return [float(s) for s in self._bm25.get_batch_scores(tokens, ids)]
