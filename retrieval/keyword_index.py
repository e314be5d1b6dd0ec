"""BM25 over jieba tokens."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rank_bm25 import BM25Okapi

from retrieval.tokenizer import tokenize


@lru_cache(maxsize=8)
def query_tokens(query: str) -> tuple[str, ...]:
    """A question's tokens: ranking and answer selection both score the same normalised question,
    so one answer runs jieba on it once (too few entries to carry between questions)."""
    return tuple(tokenize(query))


class KeywordIndex:
    """Rebuilt from chunk texts at load (fast: a few hundred chunks).

    Scores are rank_bm25's Okapi scores, bit for bit, but computed from postings built here once:
    `BM25Okapi.get_scores` walks every document in Python for every query token (~3 ms a query on
    the real KB), while only the documents holding the token can score.
    """

    def __init__(self, texts: list[str]) -> None:
        self._docs = [tokenize(t) or ["∅"] for t in texts]
        self._bm25 = bm = BM25Okapi(self._docs, k1=1.2, b=0.6)
        doc_len = np.array(bm.doc_len)
        # The same expression as rank_bm25's, so every float comes out identical.
        self._norm = bm.k1 * (1 - bm.b + bm.b * doc_len / bm.avgdl)
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, freqs in enumerate(bm.doc_freqs):
            for term, tf in freqs.items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(i)
                tfs.append(tf)
        self._postings = {t: (np.array(ids), np.array(tfs)) for t, (ids, tfs) in postings.items()}

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        tokens = query_tokens(query)
        if not tokens:
            return []
        scores = self._all_scores(tokens)
        order = np.argsort(-scores, kind="stable")[:k]  # stable: ties keep document order
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def _all_scores(self, tokens: tuple[str, ...] | list[str]) -> np.ndarray:
        """`BM25Okapi.get_scores(tokens)`: a document without the token adds 0 there, so only the
        token's postings are touched (a repeated token counts again, as there)."""
        bm = self._bm25
        score = np.zeros(bm.corpus_size)
        for t in tokens:
            posting = self._postings.get(t)
            if posting is None:
                continue
            ids, tf = posting
            score[ids] += (bm.idf.get(t) or 0) * (tf * (bm.k1 + 1) / (tf + self._norm[ids]))
        return score

    def scores(self, query: str, ids: list[int]) -> list[float]:
        """BM25 (Okapi, as `search`) of `query` against the given documents only: answer selection's
        candidates, a few dozen dict lookups instead of a pass over every document."""
        tokens = query_tokens(query)
        bm = self._bm25
        out = []
        for i in ids:
            freqs, norm = bm.doc_freqs[i], float(self._norm[i])  # the length normalisation built at load
            out.append(
                sum(
                    bm.idf.get(t, 0.0) * freqs[t] * (bm.k1 + 1) / (freqs[t] + norm)
                    for t in tokens
                    if t in freqs
                )
            )
        return out
