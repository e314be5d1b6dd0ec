"""Benchmark: the cluster (``python -m kefu.cluster``'s topology) against one stack, on the same machine.

One stack is ``make run``'s: one gateway, one Rasa, one action server, SQLite. The cluster is two
gateways behind nginx on one PostgreSQL database and one Redis, and two Rasa + action-server pairs on
the shared tracker (PostgreSQL) and lock (Redis) stores. Both get the same chats through the public chat
API (the web chat's requests, see scripts/gateway_bench_load.py) at 20 and 100 concurrent chats, one
after the other, never at the same time. Reports msg/s, p50, p95, errors, lost messages and the CPU
each service spent per message (its whole process tree: PostgreSQL's backends included), and writes
docs/bench_cluster.md and docs/bench_cluster.json; docs/capacity.md reads those numbers.
CPU-heavy: `make bench` runs it once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.settings import GatewaySettings
from kefu.cluster import cluster_services, free_port
from kefu.db import upgrade_database
from kefu.local_servers import postgres_cluster, redis_server
from kefu.settings import REPO_ROOT, CommonSettings
from kefu.supervisor import Supervisor, build_services, service_env
from scripts.cluster_bench_report import capacity_markdown, markdown
from scripts.gateway_bench_load import MESSAGES, Bench, Run
from scripts.process_cpu import find_pids, tree_cpu_seconds

Measure = Callable[[], float]


def _bench_env(env: dict[str, str]) -> dict[str, str]:
    env["KEFU_KB_INDEX_DIR"] = os.environ.get("KEFU_KB_INDEX_DIR", str(REPO_ROOT / "var" / "index"))
    env["KEFU_HANDOFF_WORKING_HOURS"] = "00:00-24:00"
    # One host, no think time: the public limits would refuse the load itself.
    env["KEFU_RATE_CONVERSATIONS_PER_IP_HOUR"] = "100000"
    env["KEFU_RATE_REQUESTS_PER_IP_MINUTE"] = "1000000"
    env["KEFU_RATE_MESSAGES_PER_CONVERSATION_MINUTE"] = "100000"
    return env


def _settings(var_dir: Path, **extra: Any) -> CommonSettings:
    return CommonSettings(
        var_dir=var_dir,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        action_server_url=f"http://127.0.0.1:{free_port()}",
        gateway_port=free_port(),
        **extra,
    )


@contextmanager
def one_stack() -> Iterator[tuple[Supervisor, CommonSettings, dict[str, Measure]]]:
    settings = _settings(Path(tempfile.mkdtemp(prefix="kefu-bench-one-")))
    upgrade_database(settings.database_url)
    supervisor = _supervisor(build_services(settings), _bench_env(service_env(settings)), settings)
    with _running(supervisor):
        yield supervisor, settings, _service_cpu(supervisor)


@contextmanager
def cluster() -> Iterator[tuple[Supervisor, CommonSettings, dict[str, Measure]]]:
    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_cluster())
        redis_url = stack.enter_context(redis_server())
        settings = _settings(
            Path(tempfile.mkdtemp(prefix="kefu-bench-cluster-")),
            database_url=database_url,
            rasa_tracker_url=database_url.replace("postgresql+psycopg://", "postgresql://"),
            rasa_lock_store_url=redis_url,
        )
        upgrade_database(database_url)
        services, env = cluster_services(settings, redis_url, gateway_ports=[free_port(), free_port()])
        supervisor = _supervisor(services, _bench_env(env), settings)
        with _running(supervisor):
            measures = _service_cpu(supervisor)
            port = database_url.rsplit(":", 1)[1].split("/")[0]
            postgres = find_pids("postgres", f"-p {port} ")  # the postmaster; backends are its children
            redis = find_pids("redis-server", ":" + redis_url.rsplit(":", 1)[1].split("/")[0])
            measures["postgresql"] = lambda: sum(tree_cpu_seconds(p) for p in postgres)
            measures["redis"] = lambda: sum(tree_cpu_seconds(p) for p in redis)
            yield supervisor, settings, measures


def _supervisor(services: list[Any], env: dict[str, str], settings: CommonSettings) -> Supervisor:
    for service in services:  # a busy machine may take long to load the models: wait, then measure
        service.startup_timeout = max(service.startup_timeout, 1500.0)
    return Supervisor(services, env, Path(settings.var_dir) / "logs", color=False, echo=False)


@contextmanager
def _running(supervisor: Supervisor) -> Iterator[None]:
    supervisor.start()
    try:
        supervisor.wait_healthy()
        yield
    finally:
        supervisor.stop()


def _service_cpu(supervisor: Supervisor) -> dict[str, Measure]:
    """CPU seconds of each supervised service's process tree, read when called."""
    out: dict[str, Measure] = {}
    for service in supervisor.services:
        assert service.process is not None
        pid = service.process.pid
        out[service.name] = lambda pid=pid: tree_cpu_seconds(pid)  # type: ignore[misc]
    return out


async def _measured(bench: Bench, measures: dict[str, Measure], chats: int, per_chat: int) -> Run:
    before = {name: m() for name, m in measures.items()}
    run = await bench.run("gateway", chats, per_chat)
    done = max(1, len(run.latencies))
    run.cpu_ms_per_msg = {name: (m() - before[name]) * 1000 / done for name, m in measures.items()}
    return run


def _measure_topology(
    name: str, topology: Any, levels: list[tuple[int, int]], secret_key: str = "KEFU_RASA_CHANNEL_SECRET"
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with topology() as (supervisor, settings, measures):
        bench = Bench(settings.gateway_url, settings.rasa_url, supervisor.env[secret_key], {})
        asyncio.run(bench.run("gateway", 4, len(MESSAGES)))  # warm-up: models, caches, pools
        for chats, per_chat in levels:
            run = asyncio.run(_measured(bench, measures, chats, per_chat))
            rows.append({"topology": name, **run.row()})
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", default="20:8,100:4", help="chats:messages-per-chat,...")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs")
    args = parser.parse_args()
    levels = [(int(c), int(m)) for c, m in (lv.split(":") for lv in args.levels.split(","))]
    load_before = os.getloadavg()
    rows = _measure_topology("one stack", one_stack, levels) + _measure_topology("cluster", cluster, levels)
    result = {
        "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "rasa_timeout_s": GatewaySettings().rasa_timeout_seconds,
        "levels": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_cluster.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), "utf-8")
    (args.out / "bench_cluster.md").write_text(markdown(result), encoding="utf-8")
    (args.out / "capacity.md").write_text(capacity_markdown(result), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
