"""Hooks the reports into the gateway: the bot-turn log in the router, the report service."""

from __future__ import annotations

import anyio
from fastapi import FastAPI

from gateway.reports.service import Reports
from gateway.reports.settings import ReportsSettings
from gateway.reports.turns import TurnLog


def install(app: FastAPI) -> None:
    """Nothing to set up before the lifespan: :func:`start` runs from the composition root."""


async def start(app: FastAPI) -> None:
    settings = ReportsSettings()
    reports = app.state.reports = Reports(app.state.session_factory, settings)

    async def roll_up() -> None:
        while True:
            await anyio.to_thread.run_sync(reports.refresh_rollups)
            await anyio.sleep(settings.rollup_interval_seconds)

    app.state.jobs.spawn("report_rollups", roll_up)
    app.state.router.reply_writers.append(TurnLog().row)
