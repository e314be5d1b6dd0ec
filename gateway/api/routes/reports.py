"""Supervisor reports: JSON (``/api/reports``), CSV per table, and the page (``/console/reports``).

Translation only: the figures are defined in ``gateway/reports``. Supervisors and admins only
(an agent gets 403); the same bearer sign-in as the console.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response

from gateway.api.deps import StaffPrincipal, require_staff
from gateway.api.routes.console import CSP
from gateway.errors import ApiError
from gateway.reports import FIGURE_NAMES, InvalidReportQuery, ReportQuery, Reports

router = APIRouter(tags=["reports"])
STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"
REPORT_ROLES = ("supervisor", "admin")


def get_reports(request: Request) -> Reports:
    reports: Reports | None = getattr(request.app.state, "reports", None)
    if reports is None:  # built on first use from the process's one session factory
        reports = Reports(request.app.state.session_factory)
        request.app.state.reports = reports
    return reports


def require_supervisor(staff: Annotated[StaffPrincipal, Depends(require_staff)]) -> StaffPrincipal:
    if staff.role not in REPORT_ROLES:
        raise ApiError(403, "supervisors_only", "只有主管和管理员可以查看报表", "Supervisors and admins only")
    return staff


def report_query(
    reports: Annotated[Reports, Depends(get_reports)],
    date_from: Annotated[
        str | None, Query(alias="from", description="First day, YYYY-MM-DD (local).")
    ] = None,
    date_to: Annotated[str | None, Query(alias="to", description="Last day, YYYY-MM-DD (included).")] = None,
    channel: Annotated[str | None, Query(description="web, telegram or wechat; empty: all.")] = None,
) -> ReportQuery:
    try:
        return reports.query(date_from, date_to, channel)
    except InvalidReportQuery as exc:
        raise ApiError(422, "invalid_report_query", exc.zh, exc.en) from exc


ReportsDep = Annotated[Reports, Depends(get_reports)]
QueryDep = Annotated[ReportQuery, Depends(report_query)]
Supervisor = Annotated[StaffPrincipal, Depends(require_supervisor)]


def _name(name: str) -> str:
    if name not in FIGURE_NAMES:
        raise ApiError(404, "unknown_report", f"没有名为 {name} 的报表", f"No report named {name}")
    return name


@router.get("/api/reports")
async def all_reports(_: Supervisor, reports: ReportsDep, q: QueryDep) -> dict[str, Any]:
    """Every figure for the period and channel."""
    figures = await anyio.to_thread.run_sync(reports.all, q)
    return {"query": q.to_dict(), "figures": [f.to_dict() for f in figures]}


@router.get("/api/reports/{name}.csv")
async def report_csv(name: str, _: Supervisor, reports: ReportsDep, q: QueryDep) -> Response:
    """One figure's table as CSV (UTF-8 with BOM)."""
    figure = await anyio.to_thread.run_sync(reports.figure, _name(name), q)
    day = q.first_day.isoformat()
    return Response(
        figure.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="kefu-{name}-{day}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/api/reports/{name}")
async def one_report(name: str, _: Supervisor, reports: ReportsDep, q: QueryDep) -> dict[str, Any]:
    figure = await anyio.to_thread.run_sync(reports.figure, _name(name), q)
    return {"query": q.to_dict(), "figure": figure.to_dict()}


@router.get("/console/reports", include_in_schema=False)
async def reports_page() -> FileResponse:
    """The page signs in with the console's session (same origin); the data needs a supervisor."""
    return FileResponse(
        STATIC_DIR / "reports.html",
        headers={"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "Cache-Control": "no-store"},
    )
