"""Hit testing for operators: the ranked passages with their dense, BM25 and fused scores, and the gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from retrieval.knowledge_base import KnowledgeBase


def hit_test(kb: KnowledgeBase, query: str, k: int = 10) -> dict[str, Any]:
    """What the customer would get for ``query`` and why.

    ``dense`` is the passage's cosine, ``bm25`` its raw BM25 score (null when the retriever did not
    return it among its candidates), ``fused`` the section score the ranking sorts by.
    """
    trace, response = kb.explain(query, k)
    dense, sparse, chunks = dict(trace.dense), dict(trace.sparse), kb.chunks
    passages = []
    for rank, (i, fused, _section_cosine) in enumerate(trace.ranked, 1):
        c = chunks[i]
        passages.append(
            {
                "rank": rank,
                "section": c.section,
                "title": c.title,
                "kind": c.kind,
                "source": Path(c.doc).name,
                "text": c.text[:400],
                "dense": _round(dense.get(i)),
                "bm25": _round(sparse.get(i)),
                "fused": round(fused, 4),
            }
        )
    scores = kb.gate_scores(query)
    answer = kb.answer(query) if response.confident else None
    s = kb.settings
    return {
        "query": query,
        "build_id": kb.build_id,
        "passages": passages,
        "gate": {
            "would_answer": response.confident,
            "question_cosine": round(scores.question_cos, 4),
            "passage_cosine": round(scores.passage_cos, 4),
            "names_domain_term": scores.domain,
            "names_other_organisation": list(scores.foreign),
            "question_threshold": s.question_threshold,
            "strong_threshold": s.strong_threshold,
            "domain_threshold": s.domain_threshold,
            "foreign_threshold": s.foreign_threshold,
        },
        "answer": answer.text if answer else None,
        "citations": answer.citations if answer else [],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
