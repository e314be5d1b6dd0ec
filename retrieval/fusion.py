"""Fusing dense and BM25 rankings."""

from __future__ import annotations


def rrf(
    rankings: list[list[tuple[int, float]]], weights: list[float], k: int = 60
) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion."""
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, (idx, _) in enumerate(ranking):
            scores[idx] = scores.get(idx, 0.0) + w / (k + rank + 1)
    return sorted(scores.items(), key=lambda x: -x[1])


def weighted(rankings: list[list[tuple[int, float]]], weights: list[float]) -> list[tuple[int, float]]:
    """Min-max normalized score sum."""
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        if not ranking:
            continue
        vals = [s for _, s in ranking]
        lo, hi = min(vals), max(vals)
        span = hi - lo  # once per ranking, not per candidate (run per query over 80 + 80)
        get = scores.get
        for idx, s in ranking:
            scores[idx] = get(idx, 0.0) + w * ((s - lo) / span if hi > lo else 1.0)
    return sorted(scores.items(), key=lambda x: -x[1])
