"""`POST /model/parse` latency of the trained model, and of a baseline model for comparison.

Starts `rasa run --enable-api` on a free loopback port for each model in turn, sends every text of the
held-out split and the real-text sets (after a warm-up), and writes p50/p95 to
var/nlu-results/parse_latency.md, which scripts/nlu_report.py puts into docs/nlu.md. Not a test: the
wall-clock numbers depend on what else runs on the machine (2 shared cores), so the load average is
reported too, and so is the CPU time the Rasa server spent per parse (from /proc), which does not.

Usage: .venv/bin/python scripts/bench_nlu_parse.py [--baseline var/baseline/kefu.tar.gz] [--baseline-root DIR]

A model names its custom components by module path, so a baseline trained from another checkout
(whose bot/components differ) runs from that checkout: ``--baseline-root`` (default: this one).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import time
from pathlib import Path

import httpx

from kefu.settings import CommonSettings
from kefu.supervisor_services import inference_thread_env
from scripts.nlu_report import OUT, RASA, REAL_SETS, ROOT, TEST_SPLIT, example_texts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc), to see past the load on shared cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(model: Path, texts: list[str], root: Path) -> tuple[float, float, float]:
    port = _free_port()
    cmd = [str(RASA), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port), "--model", str(model)]
    # The thread pools `make run` gives Rasa (kefu.supervisor_services.inference_thread_env).
    env = {**os.environ, **inference_thread_env(CommonSettings().rasa_threads), "PYTHONPATH": str(root)}
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=30) as client:
            deadline = time.monotonic() + 600
            while True:
                try:
                    if client.get(f"{url}/status").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"rasa server for {model} did not start")
                time.sleep(2)
            for text in texts[:20]:
                client.post(f"{url}/model/parse", json={"text": text})
            times = []
            cpu_start = cpu_seconds(proc.pid)
            for text in texts:
                start = time.perf_counter()
                client.post(f"{url}/model/parse", json={"text": text}).raise_for_status()
                times.append((time.perf_counter() - start) * 1000)
            cpu_ms = (cpu_seconds(proc.pid) - cpu_start) * 1000 / len(texts)
        p95 = statistics.quantiles(times, n=20)[-1]
        return statistics.median(times), p95, cpu_ms
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "kefu.tar.gz")
    parser.add_argument("--baseline", type=Path, default=ROOT / "var" / "baseline" / "kefu.tar.gz")
    parser.add_argument("--baseline-root", type=Path, default=ROOT, help="checkout the baseline runs from")
    args = parser.parse_args()
    texts = [t for t, _, _ in example_texts(TEST_SPLIT)]
    for path, _, _, _ in REAL_SETS:
        texts += [t for t, _, _ in example_texts(path)]
    rows = []
    loads = [os.getloadavg()[0]]
    runs = (
        ("before (baseline model)", args.baseline, args.baseline_root),
        ("after (this model)", args.model, ROOT),
    )
    for label, model, root in runs:
        if model.exists():
            p50, p95, cpu_ms = measure(model.resolve(), texts, root.resolve())
            loads.append(os.getloadavg()[0])
            shown = model.resolve().relative_to(root.resolve()) if root == ROOT else model
            rows.append(f"| {label} | `{shown}` | {p50:.1f} | {p95:.1f} | {cpu_ms:.1f} |")
    lines = [
        f"`POST /model/parse`, {len(texts)} messages one after another, load average "
        f"{min(loads):.1f}–{max(loads):.1f} on 2 cores while measuring (wall-clock latency grows with the",
        "load; the server's CPU time per parse does not):",
        "",
        "| model | file | p50 ms | p95 ms | server CPU ms per parse |",
        "|---|---|---|---|---|",
        *rows,
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "parse_latency.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
