"""KB workbench API (``/api/kb/workbench``) and page (``/console/kb``): supervisors and admins only.

Documents with their sections and chunk counts, upload and delete, a background rebuild with its
progress, rollback, hit testing and the gaps list. Every change and every hit test is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from gateway.agents.actor import Actor
from gateway.api.deps import StaffPrincipal, require_staff
from gateway.api.routes.console import CSP
from gateway.errors import ApiError
from gateway.kb_gaps import find_gaps
from gateway.kb_workbench import KbWorkbench, workbench
from retrieval.catalog import list_documents
from retrieval.index_versions import NoPreviousVersion
from retrieval.rebuild import RebuildBusy
from retrieval.uploads import UploadRejected, delete_upload, store_upload

PREFIX = "/api/kb/workbench"
UPLOAD_PATH = PREFIX + "/documents"
router = APIRouter(tags=["kb workbench"])
STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"


def operator(request: Request, staff: Annotated[StaffPrincipal, Depends(require_staff)]) -> Actor:
    actor = Actor(staff.username, staff.role, request.client.host if request.client else None)
    if not actor.supervises:
        raise ApiError(
            403, "supervisors_only", "只有主管和管理员可以管理知识库", "Supervisors and admins only"
        )
    return actor


def get_workbench(request: Request) -> KbWorkbench:
    return workbench(request.app)


OperatorDep = Annotated[Actor, Depends(operator)]
WorkbenchDep = Annotated[KbWorkbench, Depends(get_workbench)]


async def _audit(wb: KbWorkbench, actor: Actor, action: str, detail: dict[str, Any]) -> None:
    audit = wb.audit()
    await anyio.to_thread.run_sync(
        lambda: audit.record(actor=actor.username, role=actor.role, action=action, ip=actor.ip, detail=detail)
    )


class HitTestIn(BaseModel):
    query: str = Field(min_length=1, max_length=500, description="The question to test.")
    k: int = Field(default=8, ge=1, le=30, description="How many ranked passages.")


@router.get("/console/kb", include_in_schema=False)
async def workbench_page() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "kb_workbench.html",
        headers={"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "Cache-Control": "no-store"},
    )


@router.get(PREFIX + "/documents")
async def documents(wb: WorkbenchDep, actor: OperatorDep) -> dict[str, Any]:
    """Source documents and what the live index holds of each (sections, chunk counts, status)."""
    docs = await anyio.to_thread.run_sync(list_documents, wb.settings)
    return {
        "items": [d.to_dict() for d in docs],
        "rebuild_needed": any(d.status != "indexed" for d in docs),
        "upload_max_bytes": wb.settings.upload_max_bytes,
    }


@router.post(UPLOAD_PATH, status_code=201)
async def upload(wb: WorkbenchDep, actor: OperatorDep, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Upload a Markdown, text, HTML, DOCX or PDF document (indexed at the next rebuild)."""
    data = await file.read(wb.settings.upload_max_bytes + 1)
    try:
        stored = await anyio.to_thread.run_sync(lambda: store_upload(wb.settings, file.filename or "", data))
    except UploadRejected as exc:
        await _audit(wb, actor, "kb_upload_rejected", {"file": file.filename or "", "reason": exc.code})
        raise ApiError(422, exc.code, exc.zh, exc.en) from exc
    detail = {
        "file": stored.name,
        "bytes": len(data),
        "sections": stored.sections,
        "replaced": stored.replaced,
    }
    await _audit(wb, actor, "kb_upload", detail)
    return detail


@router.delete(PREFIX + "/documents/{name}")
async def delete(name: str, wb: WorkbenchDep, actor: OperatorDep) -> dict[str, Any]:
    """Delete an uploaded document (guide and FAQ files are edited in the repository, not here)."""
    try:
        removed = await anyio.to_thread.run_sync(lambda: delete_upload(wb.settings, name))
    except UploadRejected:
        removed = False
    if not removed:
        raise ApiError(404, "not_found", "没有这个上传的文档", "No such uploaded document")
    await _audit(wb, actor, "kb_delete", {"file": name})
    return {"deleted": name}


@router.post(PREFIX + "/rebuild", status_code=202)
async def rebuild(wb: WorkbenchDep, actor: OperatorDep) -> dict[str, Any]:
    """Build a new index version in the background; it goes live when finished."""
    try:
        status = wb.rebuilder.start(actor.username)
    except RebuildBusy as exc:
        raise ApiError(409, "rebuild_running", "索引正在重建中", "A rebuild is already running") from exc
    await _audit(wb, actor, "kb_rebuild", {})
    return status


@router.get(PREFIX + "/rebuild")
async def rebuild_status(wb: WorkbenchDep, actor: OperatorDep) -> dict[str, Any]:
    """Progress of the last rebuild and the index versions (live, previous)."""
    kb = wb.knowledge_base()
    status = await anyio.to_thread.run_sync(wb.rebuilder.status)
    return {**status, "live_build_id": kb.build_id if kb is not None else None}


@router.post(PREFIX + "/rollback")
async def rollback(wb: WorkbenchDep, actor: OperatorDep) -> dict[str, Any]:
    """Make the previous index version live again (a second rollback undoes the first)."""
    try:
        version = await anyio.to_thread.run_sync(wb.rebuilder.rollback)
    except RebuildBusy as exc:
        raise ApiError(409, "rebuild_running", "索引正在重建中，请稍后回滚", "A rebuild is running") from exc
    except NoPreviousVersion as exc:
        raise ApiError(409, "no_previous", "没有可回滚的上一版索引", "No previous index version") from exc
    await _audit(wb, actor, "kb_rollback", {"version": version})
    return {"live": version}


@router.post(PREFIX + "/hit-test")
async def hit_test(body: HitTestIn, wb: WorkbenchDep, actor: OperatorDep) -> dict[str, Any]:
    """Ranked passages with dense, BM25 and fused scores, and whether the gate would answer."""
    kb = wb.knowledge_base()
    if kb is None:
        raise ApiError(
            503, "kb_unavailable", "知识库索引尚未就绪，请先重建", "Knowledge base index is not available"
        )
    from retrieval.hit_test import hit_test as run

    result: dict[str, Any] = await anyio.to_thread.run_sync(lambda: run(kb, body.query, body.k))
    await _audit(
        wb, actor, "kb_hit_test", {"query": body.query, "would_answer": result["gate"]["would_answer"]}
    )
    return result


@router.get(PREFIX + "/gaps")
async def gaps(
    request: Request,
    actor: OperatorDep,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Questions answered 「没有可靠答案」 and answers rated 「没解决」, with counts, most frequent first."""
    since = datetime.now(UTC) - timedelta(days=days)
    found = await anyio.to_thread.run_sync(lambda: find_gaps(request.app.state.session_factory, since, limit))
    return {"days": days, "items": [g.to_dict() for g in found]}
