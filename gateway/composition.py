"""The gateway's composition root: the lifespan builds every service once per process, in order,
and passes collaborators through constructors (nothing is patched in afterwards).

What routes need is put on ``app.state``; background loops run under ``app.state.jobs``
(restarted on failure, shown in ``/healthz``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from gateway import agent_tools_setup, channels_setup, console_setup, metrics_setup, tickets_setup
from gateway.agents.desk import AgentDesk
from gateway.background import BackgroundJobs
from gateway.conversation_owner import ConversationOwner
from gateway.conversations import ConversationStore
from gateway.coordination import wiring
from gateway.human_queue import HumanQueue
from gateway.metrics import count_message, timed_index_load
from gateway.rasa_client import RasaClient
from gateway.reports import setup as reports_setup
from gateway.routing import ConversationRouter
from gateway.settings import GatewaySettings
from kefu.db import make_engine, make_session_factory

log = logging.getLogger(__name__)
KB_RELOAD_SECONDS = 30


@asynccontextmanager
async def compose(app: FastAPI, settings: GatewaySettings) -> AsyncIterator[None]:
    state = app.state
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    store = ConversationStore(
        session_factory, retention_days=settings.history_retention_days, on_stored=count_message
    )
    rasa = RasaClient(
        settings.rasa_replica_urls or settings.rasa_url,
        token=settings.rasa_token.get_secret_value(),
        channel_secret=settings.rasa_channel_secret.get_secret_value(),
        timeout=settings.rasa_timeout_seconds,
        max_in_flight=settings.rasa_max_in_flight,
    )
    coordination = wiring.build(settings, store)
    hub = coordination.hub
    owner = ConversationOwner(store, hub, state_locks=coordination.locks("state"))
    state.session_factory, state.store, state.rasa, state.hub = session_factory, store, rasa, hub
    state.knowledge_base = None
    if settings.load_knowledge_base:
        state.knowledge_base = await anyio.to_thread.run_sync(timed_index_load, _load_knowledge_base)

    ticket_service = tickets_setup.start(session_factory, hub, store)
    state.ticket_service = ticket_service
    staff = console_setup.staffing(
        session_factory, state.handoff_settings, state.auth_settings, owner, rasa, lambda: ticket_service
    )
    human_queue = HumanQueue(
        owner,
        staff.handoffs,
        hours=staff.hours,
        leave_message=staff.leave_message,
        avg_handle_minutes=settings.queue_avg_handle_minutes,
    )
    router = ConversationRouter(
        owner,
        rasa,
        human_queue,
        rate_ticket=functools.partial(tickets_setup.rate_from_form, ticket_service),
        locks=coordination.locks("message"),
    )
    state.router = router
    state.agent_directory, state.audit_log = staff.directory, staff.audit
    state.agent_desk = AgentDesk(router, staff.handoffs, staff.audit, staff.directory)
    state.agent_assist = console_setup.assist(
        session_factory, rasa, lambda: getattr(state, "knowledge_base", None), lambda: ticket_service
    )

    state.jobs = jobs = BackgroundJobs()
    for name, job in coordination.jobs.items():  # the Redis hub's publisher and listener
        jobs.spawn(name, job)
    jobs.spawn("rasa_backlog", router.run_backlog)
    if settings.load_knowledge_base:
        jobs.spawn("index_watcher", lambda: _reload_knowledge_base(app))
    jobs.spawn("overdue_tickets", tickets_setup.overdue_job(ticket_service))
    jobs.spawn("agent_housekeeping", console_setup.housekeeping_job(staff.directory))
    channels_setup.start(state.channels, store, coordination, jobs)
    # The agents' tools (auto-assignment), the reports' bot-turn log and the metrics build on the above.
    for extension in (agent_tools_setup, reports_setup, metrics_setup):
        await extension.start(app)
    try:
        yield
    finally:
        await jobs.stop()
        await coordination.aclose()
        await rasa.aclose()
        engine.dispose()


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
