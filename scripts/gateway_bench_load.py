"""The load driver of scripts/bench_gateway.py: chats sent through the gateway or straight to Rasa.

Apart from starting the stack and writing the report, so that what one message's latency, a lost
message and a service's CPU per message mean is read in one place.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gateway.rasa_backlog import ACTION_FAILED_TEXT, RASA_BACKLOG_TEXT, RASA_DOWN_TEXT

# Messages that keep a chat with the bot (no handoff words, no form that would change who answers):
# greetings, knowledge-base and tariff questions, thanks. Both paths get exactly these.
MESSAGES = [
    "你好",
    "办新号要带什么证件",
    "5G套餐最便宜的是哪个",
    "宽带坏了多久能修好",
    "携号转网需要什么条件",
    "谢谢",
]
CHANNEL_PATH = "/webhooks/gateway/webhook"
SECRET_HEADER = "X-Kefu-Channel-Secret"
TICKS = os.sysconf("SC_CLK_TCK")
APOLOGIES = {RASA_DOWN_TEXT, RASA_BACKLOG_TEXT, ACTION_FAILED_TEXT}


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """User+system CPU of the process and its reaped children (the service's own process tree)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


@dataclass
class Run:
    """One path at one concurrency: what each message got."""

    path: str
    chats: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    lost: int = 0
    apologies: int = 0  # answered with the gateway's apology instead of the bot's answer
    sent: int = 0
    elapsed: float = 0.0
    cpu_ms_per_msg: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        ok = len(self.latencies)
        return {
            "path": self.path,
            "chats": self.chats,
            "sent": self.sent,
            "p50_ms": round(statistics.median(self.latencies), 1) if ok else None,
            "p95_ms": round(_percentile(self.latencies, 95), 1) if ok else None,
            # Answers only: an apology ("try again", "kept for later") is not throughput.
            "msgs_per_s": round((ok - self.apologies) / self.elapsed, 1) if self.elapsed else None,
            "errors": self.errors,
            "lost": self.lost,
            "apologies": self.apologies,
            "cpu_ms_per_msg": {k: round(v, 1) for k, v in self.cpu_ms_per_msg.items()},
        }


async def _timed(run: Run, request: Awaitable[httpx.Response]) -> httpx.Response | None:
    """Send one message: its latency if answered 200, else counted as an error (None)."""
    run.sent += 1
    started = time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError:
        run.errors += 1
        return None
    if response.status_code != 200:
        run.errors += 1
        return None
    run.latencies.append((time.perf_counter() - started) * 1000)
    return response


class Bench:
    def __init__(self, gateway: str, rasa: str, secret: str, pids: dict[str, int]) -> None:
        self.gateway, self.rasa, self.secret, self.pids = gateway, rasa, secret, pids

    async def _gateway_chat(
        self, client: httpx.AsyncClient, cid: str, token: str, run: Run, until: float, limit: int
    ) -> None:
        headers = {"X-Customer-Token": token}
        sent = 0
        while sent < limit and time.perf_counter() < until:
            text = MESSAGES[sent % len(MESSAGES)]
            sent += 1
            response = await _timed(
                run, client.post(f"/api/conversations/{cid}/messages", json={"text": text}, headers=headers)
            )
            if response is None:
                continue
            replies = [str(m.get("text") or "") for m in response.json().get("messages") or []]
            if not replies:
                run.lost += 1  # stored but answered with silence
            elif any(text in APOLOGIES for text in replies):
                run.apologies += 1
        # Every customer message sent must be in the conversation's history exactly once.
        history = await client.get(f"/api/conversations/{cid}/messages", headers=headers)
        stored = [m for m in history.json()["messages"] if m["sender"] == "customer"]
        run.lost += max(0, sent - len(stored))

    async def _rasa_chat(self, client: httpx.AsyncClient, run: Run, until: float, limit: int) -> None:
        sender = f"bench-{uuid.uuid4().hex}"
        for sent in range(limit):
            if time.perf_counter() >= until:
                break
            body = {"sender": sender, "message": MESSAGES[sent % len(MESSAGES)]}
            headers = {SECRET_HEADER: self.secret}
            response = await _timed(run, client.post(CHANNEL_PATH, json=body, headers=headers))
            if response is not None and not response.json():
                run.lost += 1  # Rasa answered nothing: the customer would see silence

    async def run(self, path: str, chats: int, per_chat: int, seconds: float = 600.0) -> Run:
        run = Run(path, chats)
        limits = httpx.Limits(max_connections=chats + 10, max_keepalive_connections=chats + 10)
        base = self.gateway if path == "gateway" else self.rasa
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            convs: list[tuple[str, str]] = []
            if path == "gateway":  # conversations (and tokens) first, outside the timed part
                for _ in range(chats):
                    body = (await client.post("/api/conversations")).json()
                    convs.append((str(body["conversation_id"]), str(body["customer_token"])))
            cpu_before = {name: _cpu_seconds(pid) for name, pid in self.pids.items()}
            started = time.perf_counter()
            until = started + seconds
            if path == "gateway":
                jobs = [self._gateway_chat(client, cid, tok, run, until, per_chat) for cid, tok in convs]
            else:
                jobs = [self._rasa_chat(client, run, until, per_chat) for _ in range(chats)]
            await asyncio.gather(*jobs)
            run.elapsed = time.perf_counter() - started
            done = max(1, len(run.latencies))
            run.cpu_ms_per_msg = {
                name: (_cpu_seconds(pid) - cpu_before[name]) * 1000 / done for name, pid in self.pids.items()
            }
        return run
