"""Knowledge-base search, the same JSON as ``python -m retrieval search --json``."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query

from gateway.api.deps import get_knowledge_base

router = APIRouter(prefix="/api/kb", tags=["knowledge base"])


@router.get("/search")
async def search(
    kb: Annotated[Any, Depends(get_knowledge_base)],
    q: str = Query(min_length=1, max_length=2000, description="The question."),
    k: int = Query(default=5, ge=1, le=50, description="How many passages."),
) -> dict[str, Any]:
    """Search the indexed service standards."""
    response = await anyio.to_thread.run_sync(lambda: kb.search(q, k=k))
    result: dict[str, Any] = response.to_dict()
    return result
