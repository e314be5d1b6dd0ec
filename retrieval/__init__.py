"""Retrieval over the operator's service guide: dense (FAISS) + BM25 with fusion and a confidence gate."""

from retrieval.knowledge_base import (
    Hit,
    IndexNotBuiltError,
    KbAnswer,
    KnowledgeBase,
    SearchResponse,
    get_knowledge_base,
)

__all__ = [
    "Hit",
    "IndexNotBuiltError",
    "KbAnswer",
    "KnowledgeBase",
    "SearchResponse",
    "get_knowledge_base",
]
