"""Hooks the agents' tools into the gateway: canned responses, notes, labels, search,
availability and the auto-assignment loop (after the agent console's own start-up)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from gateway.agents.assignment import AutoAssigner
from gateway.agents.availability import Availability
from gateway.agents.canned import CannedResponses
from gateway.agents.labels import Labels
from gateway.agents.notes import Notes
from gateway.agents.search import ConversationSearch
from gateway.agents.tools_settings import AssignmentSettings


@dataclass(frozen=True)
class AgentTools:
    canned: CannedResponses
    notes: Notes
    labels: Labels
    search: ConversationSearch
    availability: Availability
    assigner: AutoAssigner


def install(app: FastAPI) -> None:
    app.state.assignment_settings = AssignmentSettings()


async def start(app: FastAPI) -> None:
    state = app.state
    settings: AssignmentSettings = state.assignment_settings
    sessions = state.session_factory
    labels = Labels(sessions)
    availability = Availability(sessions, settings.default_capacity)
    assigner = AutoAssigner(state.agent_desk, availability, settings.sweep_seconds)
    state.agent_tools = AgentTools(
        canned=CannedResponses(sessions),
        notes=Notes(sessions),
        labels=labels,
        search=ConversationSearch(sessions, labels),
        availability=availability,
        assigner=assigner,
    )
    state.jobs.spawn("auto_assignment", assigner.run)
