"""Auto-assignment: queued conversations go to online agents with room, up to each one's capacity.

Highest priority first, then longest waiting (the queue's own order, ``gateway.agents.policy``);
each goes to the agent with the most room left. Passes run one at a time, and each hand-over
is the desk's own claim (a compare-and-set under the conversation's state lock), so a manual
claim racing an automatic one still leaves exactly one holder: the loser is skipped.

A pass runs on every queue change (new entry, claim, hand-back), every availability or
capacity change, and every ``KEFU_ASSIGN_SWEEP_SECONDS`` in case a hub event was lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import anyio

from gateway.agents.actor import Actor, DeskError
from gateway.agents.availability import Availability
from gateway.agents.desk import AgentDesk
from gateway.background import cancel_and_wait
from gateway.conversations import ConversationInfo
from gateway.hub import CONSOLE_TOPIC

log = logging.getLogger(__name__)
WAKING_EVENTS = ("queue", "agents")


@dataclass(frozen=True)
class Candidate:
    username: str
    role: str
    load: int  # conversations held now
    capacity: int


def _waiting_since(conv: ConversationInfo) -> datetime:
    return conv.queued_at or conv.created_at


def plan(queue: list[ConversationInfo], candidates: list[Candidate]) -> list[tuple[str, Candidate]]:
    """Which queued conversation goes to whom, in the order to hand them over."""
    ordered = sorted(queue, key=lambda c: (-c.priority, _waiting_since(c)))
    load = {c.username: c.load for c in candidates}
    out: list[tuple[str, Candidate]] = []
    for conv in ordered:
        free = [c for c in candidates if load[c.username] < c.capacity]
        if not free:
            break
        pick = min(free, key=lambda c: (load[c.username] / c.capacity, load[c.username], c.username))
        load[pick.username] += 1
        out.append((conv.id, pick))
    return out


class AutoAssigner:
    def __init__(self, desk: AgentDesk, availability: Availability, sweep_seconds: float = 5.0) -> None:
        self.desk = desk
        self.availability = availability
        self.sweep_seconds = sweep_seconds
        self._pass = asyncio.Lock()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Run a pass soon (after a change the hub does not carry)."""
        self._wake.set()

    async def candidates(self) -> list[Candidate]:
        """Active agents with an open console, status online and room under their capacity."""
        desk = self.desk
        agents = await anyio.to_thread.run_sync(desk.directory.list_agents)
        present = [a for a in agents if a.active and desk.online[a.username] > 0]
        if not present:
            return []
        views = await anyio.to_thread.run_sync(self.availability.all, [a.username for a in present])
        held = await anyio.to_thread.run_sync(desk.store.list_by_state, "agent")
        load = Counter(c.assigned_agent for c in held)
        return [
            Candidate(a.username, a.role, load[a.username], views[a.username].capacity)
            for a in present
            if views[a.username].status == "online" and load[a.username] < views[a.username].capacity
        ]

    async def assign_once(self) -> list[tuple[str, str]]:
        """One pass; returns (conversation, agent) for each conversation handed over."""
        async with self._pass:
            queue = await anyio.to_thread.run_sync(self.desk.store.list_by_state, "queue")
            if not queue:
                return []
            done: list[tuple[str, str]] = []
            for conversation_id, who in plan(queue, await self.candidates()):
                try:
                    await self.desk.claim(Actor(who.username, who.role), conversation_id, auto=True)
                except DeskError as exc:  # claimed by hand meanwhile, or left the queue
                    log.info("auto-assignment of %s skipped: %s", conversation_id, exc.code)
                    continue
                done.append((conversation_id, who.username))
            return done

    async def run(self) -> None:
        """The background loop (started under ``app.state.jobs``)."""
        async with self.desk.hub.subscribe(CONSOLE_TOPIC) as events:
            while True:
                try:
                    await self.assign_once()
                except DeskError as exc:
                    log.warning("auto-assignment pass failed: %s", exc.code)
                await self._next(events)

    async def _next(self, events: asyncio.Queue[dict[str, object]]) -> None:
        """Wait for a change worth a pass (or the sweep interval), then drop the rest of the burst."""
        waker = asyncio.create_task(self._wake.wait())
        getter: asyncio.Task[dict[str, object]] | None = None
        deadline = asyncio.get_running_loop().time() + self.sweep_seconds
        try:
            while not waker.done():
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                getter = asyncio.create_task(events.get())
                done, _ = await asyncio.wait(
                    {getter, waker}, timeout=remaining, return_when="FIRST_COMPLETED"
                )
                if getter not in done:
                    getter.cancel()
                    continue
                if getter.result().get("type") in WAKING_EVENTS:
                    break
        finally:
            # Cancelled at shutdown while waiting: a getter left pending outlives the event loop.
            await cancel_and_wait(waker, getter)
        self._wake.clear()
        while not events.empty():
            events.get_nowait()
