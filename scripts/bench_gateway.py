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
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kefu.cluster import loopback_settings
from kefu.db import upgrade_database
from kefu.settings import REPO_ROOT
from kefu.supervisor import Supervisor, build_services, service_env
from scripts.gateway_bench_load import MESSAGES, Bench, Run, rss_mb
from scripts.gateway_bench_report import markdown, plot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", default="1:30,20:20,100:8", help="chats:messages-per-chat,...")
    parser.add_argument("--soak-seconds", type=float, default=60.0)
    parser.add_argument("--soak-chats", type=int, default=100)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    settings = loopback_settings(var_dir)
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
        rss_before = rss_mb(pids["gateway"])
        soak = asyncio.run(bench.run("gateway", args.soak_chats, 10**9, seconds=args.soak_seconds))
        rss_after = rss_mb(pids["gateway"])
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
    plot(result["levels"], args.out / "bench_gateway.png")
    (args.out / "bench_gateway.md").write_text(markdown(result), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
