"""The FastAPI gateway: web chat, channel webhooks, agent console, ticket and KB APIs.

``create_app`` builds nothing at import time; the lifespan creates the database engine,
the Rasa client and the knowledge base once per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from gateway.api.routes import conversations, health, kb, websocket
from gateway.background import BackgroundJobs
from gateway.conversations import ConversationStore
from gateway.customer_tokens import HEADER as CUSTOMER_TOKEN_HEADER
from gateway.customer_tokens import CustomerTokens, load_key
from gateway.edge import Edge
from gateway.errors import install_error_handlers
from gateway.hub import Hub
from gateway.limits import BodySizeLimit, PublicLimits
from gateway.metrics import timed_index_load
from gateway.rasa_client import RasaClient
from gateway.routing import ConversationRouter
from gateway.settings import GatewaySettings, get_gateway_settings
from kefu.db import make_engine, make_session_factory, upgrade_database
from kefu.logging_setup import configure_logging
from retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
KB_RELOAD_SECONDS = 30


def _load_knowledge_base() -> object | None:
    try:
        from retrieval import IndexNotBuiltError, get_knowledge_base
    except ImportError as exc:  # pragma: no cover - retrieval is part of the product
        log.error("retrieval package unavailable: %s", exc)
        return None
    try:
        return get_knowledge_base()
    except IndexNotBuiltError as exc:
        log.warning("knowledge base not loaded (run `python -m retrieval build`): %s", exc)
        return None


async def _reload_knowledge_base(app: FastAPI) -> None:
    """Pick up a rebuilt index without restarting (the index is swapped atomically)."""
    while True:
        await asyncio.sleep(KB_RELOAD_SECONDS)
        kb = getattr(app.state, "knowledge_base", None)
        try:
            if kb is None:
                app.state.knowledge_base = await anyio.to_thread.run_sync(
                    timed_index_load, _load_knowledge_base
                )
            else:
                await anyio.to_thread.run_sync(timed_index_load, kb.reload_if_changed)
        except Exception as exc:
            log.warning("knowledge base reload failed: %s", exc)


def _optional_routers() -> list[object]:
    """Routers of the other packages (tickets, agent console, channels) that exist."""
    found = []
    for module in (
        "gateway.api.routes.tickets",
        "gateway.api.routes.agent",
        "gateway.api.routes.agent_tools",
        "gateway.api.routes.agent_availability",
        "gateway.api.routes.console",
        "gateway.api.routes.telegram",
        "gateway.api.routes.wechat",
        "gateway.api.routes.reports",
        "gateway.api.routes.kb_workbench",
    ):
        try:
            found.append(importlib.import_module(module).router)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return found


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: GatewaySettings = app.state.settings
    configure_logging(settings.log_level)
    await anyio.to_thread.run_sync(upgrade_database, settings.database_url)
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    app.state.session_factory = session_factory
    app.state.store = ConversationStore(session_factory, retention_days=settings.history_retention_days)
    app.state.rasa = RasaClient(
        settings.rasa_replica_urls or settings.rasa_url,
        token=settings.rasa_token.get_secret_value(),
        channel_secret=settings.rasa_channel_secret.get_secret_value(),
        timeout=settings.rasa_timeout_seconds,
    )
    app.state.hub = Hub()
    app.state.router = ConversationRouter(
        app.state.store, app.state.rasa, app.state.hub, avg_handle_minutes=settings.queue_avg_handle_minutes
    )
    app.state.knowledge_base = None
    if settings.load_knowledge_base:
        app.state.knowledge_base = await anyio.to_thread.run_sync(timed_index_load, _load_knowledge_base)
    # Hooks start their loops with app.state.jobs.spawn (restarted on failure, shown in /healthz).
    app.state.jobs = jobs = BackgroundJobs()
    jobs.spawn("rasa_backlog", app.state.router.run_backlog)
    background: list[asyncio.Task[None]] = []
    if settings.load_knowledge_base:
        jobs.spawn("index_watcher", lambda: _reload_knowledge_base(app))
    for hook in getattr(app.state, "startup_hooks", []):
        task = await hook(app)
        if task is not None:
            background.append(task)
    log.info("gateway ready on %s", settings.gateway_url)
    try:
        yield
    finally:
        await jobs.stop()
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await app.state.rasa.aclose()
        engine.dispose()


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
    app.state.startup_hooks = []
    install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "PATCH", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", CUSTOMER_TOKEN_HEADER],
    )
    for module in (conversations, health, kb, websocket):
        app.include_router(module.router)
    for extra in _optional_routers():
        app.include_router(extra)  # type: ignore[arg-type]
    _install_extensions(app)
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


def _install_extensions(app: FastAPI) -> None:
    """Let packages with state (tickets, agent console, channels) hook into the lifespan."""
    extensions = ("gateway.tickets_setup", "gateway.console_setup", "gateway.agent_tools_setup")
    for module in (*extensions, "gateway.channels_setup", "gateway.reports.setup", "gateway.metrics_setup"):
        try:
            importlib.import_module(module).install(app)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
