"""Benchmark: the same chat messages through the gateway and straight to Rasa, side by side, in one run.

Starts the three services on free loopback ports (as `make run` does, supervised), then for 1, 20 and
100 concurrent chats sends the same fixed mix of customer messages

- through the gateway's public chat API (``POST /api/conversations`` for a conversation and its
  customer token, then ``POST /api/conversations/{id}/messages`` with ``X-Customer-Token``), and
- straight to Rasa, on the input channel the gateway itself uses (``/webhooks/gateway/webhook`` with
  the channel secret): the stack has no public REST channel, and this one does the same work in Rasa,

and reports p50/p95 latency, messages/s, errors and lost messages for each, the CPU time each service
spent per message, and the gateway's RSS before and after a 60 s soak at 100 chats through the gateway.
Writes docs/bench_gateway.md, docs/bench_gateway.png and docs/bench_gateway.json. Loopback only;
every loop is bounded. CPU-heavy: `make bench` runs it once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from kefu.db import upgrade_database
from kefu.settings import REPO_ROOT, CommonSettings
from kefu.supervisor import Supervisor, build_services, service_env

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def _rss_mb(pid: int) -> float:
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
            "msgs_per_s": round(ok / self.elapsed, 1) if self.elapsed else None,
            "errors": self.errors,
            "lost": self.lost,
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
            if response is not None and not response.json().get("messages"):
                run.lost += 1  # stored but answered with silence
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


def _plot(rows: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = sorted({r["chats"] for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, metric, label in ((axes[0], "p50_ms", "p50 latency (ms)"), (axes[1], "msgs_per_s", "messages/s")):
        for offset, (path, color) in enumerate((("rasa", "#9e9e9e"), ("gateway", "#1565c0"))):
            by_level = {r["chats"]: r[metric] or 0 for r in rows if r["path"] == path}
            values = [by_level.get(c, 0) for c in levels]
            xs = [i + (offset - 0.5) * 0.38 for i in range(len(levels))]
            ax.bar(xs, values, width=0.38, color=color, label="straight to Rasa" if path == "rasa" else path)
        ax.set_xticks(range(len(levels)), [f"{c} chats" for c in levels])
        ax.set_ylabel(label)
        ax.legend()
    fig.suptitle("Same messages: through the gateway vs straight to Rasa (one run)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def _markdown(result: dict[str, Any]) -> str:
    rows = result["levels"]
    lines = [
        "# Chat messages: through the gateway vs straight to Rasa",
        "",
        f"Written by `make bench` (`scripts/bench_gateway.py`) on {result['at']} "
        f"({result['cpus']} CPU cores shared with other work; numbers move with the machine's load).",
        "",
        "**What was compared.** The same message mix (" + "、".join(MESSAGES) + ") in the same run, "
        "one chat = one client sending its next message as soon as the previous one is answered:",
        "",
        "- *gateway*: the public chat API as the web chat uses it (`POST /api/conversations`, then "
        "`POST /api/conversations/{id}/messages` with `X-Customer-Token`). The gateway checks the token "
        "and limits, stores the customer message and every reply in SQLite, publishes them to live "
        "listeners and checks escalation words, then asks Rasa. The per-conversation and per-IP rate "
        "limits were raised for the run (all chats come from 127.0.0.1 with no think time).",
        "- *straight to Rasa*: Rasa's gateway input channel (`/webhooks/gateway/webhook` with the "
        "channel secret), the very endpoint the gateway calls; the stack has no public REST channel. "
        "Same Rasa, same action server, same model: the difference is the gateway's own work.",
        "",
        "Lost = a message sent with no answer (silence) or, through the gateway, missing from the "
        "conversation's stored history afterwards. CPU ms/msg = CPU time each service used during the "
        "level divided by the messages answered.",
        "",
        "| chats | path | sent | p50 (ms) | p95 (ms) | msg/s | errors | lost "
        "| CPU ms/msg gateway / rasa / actions |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cpu = r["cpu_ms_per_msg"]
        lines.append(
            f"| {r['chats']} | {r['path']} | {r['sent']} | {r['p50_ms']} | {r['p95_ms']} | {r['msgs_per_s']} "
            f"| {r['errors']} | {r['lost']} "
            f"| {cpu.get('gateway')} / {cpu.get('rasa')} / {cpu.get('actions')} |"
        )
    soak = result["soak"]
    before, after = result["rss_before_mb"], result["rss_after_mb"]
    lines += [
        "",
        f"**Soak**: {soak['chats']} chats through the gateway for {soak['seconds']:.0f} s: "
        f"{soak['sent']} messages, p50 {soak['p50_ms']} ms, p95 {soak['p95_ms']} ms, "
        f"{soak['msgs_per_s']} msg/s, {soak['errors']} errors, {soak['lost']} lost. "
        f"Gateway RSS {before:.0f} MB before, {after:.0f} MB after ({after - before:+.0f} MB).",
        "",
        "![gateway vs Rasa](bench_gateway.png)",
        "",
        "## Against the target (≥ 0.95× Rasa's throughput, ≤ +10 ms p50)",
        "",
    ]
    for chats in sorted({r["chats"] for r in rows}):
        gw = next(r for r in rows if r["chats"] == chats and r["path"] == "gateway")
        ra = next(r for r in rows if r["chats"] == chats and r["path"] == "rasa")
        ratio = (gw["msgs_per_s"] or 0) / (ra["msgs_per_s"] or 1)
        extra = (gw["p50_ms"] or 0) - (ra["p50_ms"] or 0)
        met = ratio >= 0.95 and extra <= 10
        line = f"- {chats} chats: throughput {ratio:.2f}× Rasa's, p50 {extra:+.1f} ms: "
        if met:
            lines.append(line + "met.")
            continue
        cpu = gw["cpu_ms_per_msg"]
        stack = sum(v for v in cpu.values() if v is not None) or 1.0
        lines.append(
            line + f"**not met**. Measured: the gateway itself used {cpu.get('gateway')} ms CPU per message "
            f"({100 * (cpu.get('gateway') or 0) / stack:.0f}% of the stack's {stack:.1f} ms); straight to "
            f"Rasa the stack spent {sum(v for v in ra['cpu_ms_per_msg'].values() if v is not None):.1f} ms. "
            "On shared cores that CPU is taken from Rasa and the action server."
        )
    lines += ["", result.get("notes", "")]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", default="1:30,20:8,100:4", help="chats:messages-per-chat,...")
    parser.add_argument("--soak-seconds", type=float, default=60.0)
    parser.add_argument("--soak-chats", type=int, default=100)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    settings = CommonSettings(
        var_dir=var_dir,
        rasa_url=f"http://127.0.0.1:{_free_port()}",
        action_server_url=f"http://127.0.0.1:{_free_port()}",
        gateway_port=_free_port(),
    )
    env = service_env(settings)
    env["KEFU_KB_INDEX_DIR"] = os.environ.get("KEFU_KB_INDEX_DIR", str(REPO_ROOT / "var" / "index"))
    env["KEFU_HANDOFF_WORKING_HOURS"] = "00:00-24:00"
    # One host, no think time: the public limits would refuse the load itself (see the doc).
    env["KEFU_RATE_CONVERSATIONS_PER_IP_HOUR"] = "100000"
    env["KEFU_RATE_REQUESTS_PER_IP_MINUTE"] = "1000000"
    env["KEFU_RATE_MESSAGES_PER_CONVERSATION_MINUTE"] = "100000"
    upgrade_database(settings.database_url)
    services = build_services(settings)
    for service in services:  # a shared, busy machine may take long to load the model: wait, then measure
        service.startup_timeout = max(service.startup_timeout, 1500.0)
    supervisor = Supervisor(services, env, var_dir / "logs", color=False, echo=False)
    supervisor.start()
    runs: list[Run] = []
    try:
        supervisor.wait_healthy()
        pids = {s.name: s.process.pid for s in supervisor.services if s.process is not None}
        bench = Bench(settings.gateway_url, settings.rasa_url, env["KEFU_RASA_CHANNEL_SECRET"], pids)
        for path in ("rasa", "gateway"):  # warm-up: models, caches, connection pools
            asyncio.run(bench.run(path, 2, len(MESSAGES)))
        for level in args.levels.split(","):
            chats, per_chat = (int(x) for x in level.split(":"))
            for path in ("rasa", "gateway"):
                runs.append(asyncio.run(bench.run(path, chats, per_chat)))
                print(json.dumps(runs[-1].row(), ensure_ascii=False), flush=True)
        rss_before = _rss_mb(pids["gateway"])
        soak = asyncio.run(bench.run("gateway", args.soak_chats, 10**9, seconds=args.soak_seconds))
        rss_after = _rss_mb(pids["gateway"])
    finally:
        supervisor.stop()

    result: dict[str, Any] = {
        "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "levels": [r.row() for r in runs],
        "soak": {**soak.row(), "seconds": args.soak_seconds},
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "notes": os.environ.get("KEFU_BENCH_NOTES", ""),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_gateway.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    _plot(result["levels"], args.out / "bench_gateway.png")
    (args.out / "bench_gateway.md").write_text(_markdown(result), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
