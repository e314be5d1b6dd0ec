"""The FastAPI gateway: web chat, channel webhooks, agent console, ticket and KB APIs.

``create_app`` builds nothing at import time; the lifespan upgrades the database and
:func:`gateway.composition.compose` builds every service once per process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from gateway import agent_tools_setup, channels_setup, console_setup, metrics_setup, tickets_setup
from gateway.api.routes import (
    agent,
    agent_availability,
    agent_canned,
    agent_tools,
    console,
    conversations,
    health,
    kb,
    kb_workbench,
    reports,
    telegram,
    tickets,
    websocket,
    wechat,
)
from gateway.composition import compose
from gateway.customer_tokens import HEADER as CUSTOMER_TOKEN_HEADER
from gateway.customer_tokens import CustomerTokens, load_key
from gateway.edge import Edge
from gateway.errors import install_error_handlers
from gateway.limits import BodySizeLimit, PublicLimits
from gateway.reports import setup as reports_setup
from gateway.settings import GatewaySettings, get_gateway_settings
from kefu.db import upgrade_database
from kefu.logging_setup import configure_logging
from retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: GatewaySettings = app.state.settings
    configure_logging(settings.log_level)
    await anyio.to_thread.run_sync(upgrade_database, settings.database_url)
    async with compose(app, settings):
        log.info("gateway ready on %s", settings.gateway_url)
        yield


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_gateway_settings()
    docs = settings.api_docs  # the API description is for developers, off in production
    app = FastAPI(
        title="kefu gateway",
        description="客服助手网关：网页聊天、渠道接入、人工坐席与工单/知识库接口",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.limits = PublicLimits(settings)
    app.state.customer_tokens = CustomerTokens(
        load_key(settings.customer_token_secret.get_secret_value(), settings.var_dir)
    )
    install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "PATCH", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", CUSTOMER_TOKEN_HEADER],
    )
    routes = (
        conversations,
        health,
        kb,
        websocket,
        tickets,
        agent,
        agent_canned,
        agent_tools,
        agent_availability,
        console,
    )
    for module in (*routes, telegram, wechat, reports, kb_workbench):
        app.include_router(module.router)
    for setup in (
        tickets_setup,
        console_setup,
        agent_tools_setup,
        channels_setup,
        reports_setup,
        metrics_setup,
    ):
        setup.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Outermost last: the edge (client address, per-IP rate, headers), then the body-size limit.
    # Document uploads (KB workbench) have their own, larger limit (KEFU_KB_UPLOAD_MAX_BYTES).
    upload = {"/api/kb/workbench/documents": RetrievalSettings().upload_max_bytes + 64 * 1024}
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, larger=upload)
    app.add_middleware(
        Edge, trusted_proxies=settings.trusted_proxies, requests_per_ip=app.state.limits.requests_per_ip
    )

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    return app
