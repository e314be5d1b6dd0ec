"""Retrieval over the operator's service guide: dense (FAISS) + BM25 with fusion and a confidence gate.

The names below are imported on first use, so light modules (``retrieval.replies``,
``retrieval.settings``) can be imported without loading FAISS and the embedding stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("retrieval.knowledge_base"), name)
    raise AttributeError(f"module 'retrieval' has no attribute {name!r}")
