"""Hooks the reports into the gateway: the bot-turn log in the router, the report service."""

from __future__ import annotations

import anyio
from fastapi import FastAPI

from gateway.conversations import ConversationInfo
from gateway.rasa_reply import BotReply
from gateway.reports.service import Reports
from gateway.reports.settings import ReportsSettings
from gateway.reports.turns import TurnLog


def install(app: FastAPI) -> None:
    """Nothing to set up before the lifespan: :func:`start` runs from the composition root."""


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


async def start(app: FastAPI) -> None:
    settings = ReportsSettings()
    reports = app.state.reports = Reports(app.state.session_factory, settings)
    turns = TurnLog(app.state.session_factory)

    async def roll_up() -> None:
        while True:
            await anyio.to_thread.run_sync(reports.refresh_rollups)
            await anyio.sleep(settings.rollup_interval_seconds)

    app.state.jobs.spawn("report_rollups", roll_up)

    async def record(conv: ConversationInfo, reply: BotReply) -> None:
        nlu = reply.nlu or {}
        intent = nlu.get("intent")
        await anyio.to_thread.run_sync(
            lambda: turns.record(
                conv.id,
                conv.channel,
                intent=intent if isinstance(intent, str) and intent else None,
                confidence=_float(nlu.get("confidence")),
                kb_answer=any(m.citations for m in reply.messages),
            )
        )

    app.state.router.reply_listeners.append(record)
