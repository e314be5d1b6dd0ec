"""Benchmark of a chat message through the whole stack (gateway → Rasa → actions).

Starts the three services on free loopback ports (as `make run` does), sends a fixed
set of customer messages sequentially (latency) and from a few concurrent clients
(throughput), and writes docs/bench_gateway.md and docs/bench_gateway.png.
Traffic goes to 127.0.0.1 only; every loop is bounded.
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
from pathlib import Path

import httpx

from kefu.db import upgrade_database
from kefu.settings import REPO_ROOT, CommonSettings
from kefu.supervisor import Supervisor, build_services, service_env

MESSAGES = [
    "你好",
    "办新号要带什么证件",
    "5G套餐最便宜的是哪个",
    "宽带坏了多久能修好",
    "谢谢",
    "我要投诉",
    "携号转网需要什么条件",
    "今天天气怎么样",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


async def _sequential(base: str, rounds: int) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        cid = (await client.post("/api/conversations")).json()["conversation_id"]
        for i in range(rounds):
            text = MESSAGES[i % len(MESSAGES)]
            started = time.perf_counter()
            response = await client.post(f"/api/conversations/{cid}/messages", json={"text": text})
            response.raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def _concurrent(base: str, clients: int, per_client: int) -> tuple[float, int]:
    async def one(client: httpx.AsyncClient) -> int:
        cid = (await client.post("/api/conversations")).json()["conversation_id"]
        for i in range(per_client):
            response = await client.post(
                f"/api/conversations/{cid}/messages", json={"text": MESSAGES[i % len(MESSAGES)]}
            )
            response.raise_for_status()
        return per_client

    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        started = time.perf_counter()
        done = sum(await asyncio.gather(*(one(client) for _ in range(clients))))
        elapsed = time.perf_counter() - started
    return done / elapsed, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=80)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=10)
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
    upgrade_database(settings.database_url)
    supervisor = Supervisor(build_services(settings), env, var_dir / "logs", color=False, echo=False)
    supervisor.start()
    try:
        supervisor.wait_healthy()
        base = settings.gateway_url
        asyncio.run(_sequential(base, 8))  # warm-up: model loads, caches
        latencies = asyncio.run(_sequential(base, args.rounds))
        throughput, total = asyncio.run(_concurrent(base, args.clients, args.per_client))
    finally:
        supervisor.stop()

    result = {
        "messages": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(_percentile(latencies, 95), 1),
        "max_ms": round(max(latencies), 1),
        "throughput_msgs_per_s": round(throughput, 1),
        "concurrent_clients": args.clients,
        "concurrent_messages": total,
        "cpus": os.cpu_count(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_gateway.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(latencies, bins=30, color="#1565c0")
    ax.axvline(result["p50_ms"], color="black", linestyle="--", label=f"p50 {result['p50_ms']} ms")
    ax.axvline(result["p95_ms"], color="red", linestyle="--", label=f"p95 {result['p95_ms']} ms")
    ax.set_xlabel("message round trip through gateway → Rasa → actions (ms)")
    ax.set_ylabel("messages")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / "bench_gateway.png", dpi=110)
    (args.out / "bench_gateway.md").write_text(
        "# Chat message benchmark (whole stack)\n\n"
        "Written by `make bench` (`scripts/bench_gateway.py`): the three services on loopback, "
        f"{result['messages']} messages sent one after another over a fixed mix of greetings, "
        "knowledge-base questions, tariff questions, forms and out-of-scope messages, then "
        f"{args.clients} concurrent clients × {args.per_client} messages.\n\n"
        "| figure | value |\n|---|---|\n"
        f"| round trip p50 | {result['p50_ms']} ms |\n"
        f"| round trip p95 | {result['p95_ms']} ms |\n"
        f"| round trip max | {result['max_ms']} ms |\n"
        f"| throughput ({args.clients} clients) | {result['throughput_msgs_per_s']} messages/s |\n"
        f"| CPUs | {result['cpus']} |\n\n"
        "![latency histogram](bench_gateway.png)\n",
        encoding="utf-8",
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
