"""Agent API (``/api/agent``): sign-in, the queue, claiming, writing, handing back, resolving, assist.

Every endpoint except ``login`` needs ``Authorization: Bearer <token>`` (401 without); the
work itself is in ``gateway.agents``: routes only translate HTTP to those calls. The routes
live in one module per job; this one puts them together under one router.
"""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.routes import agent_messages, agent_queue, agent_session, agent_supervision

router = APIRouter()
for _part in (agent_session, agent_queue, agent_messages, agent_supervision):
    router.include_router(_part.router)
