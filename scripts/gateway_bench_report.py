"""The report of scripts/bench_gateway.py: docs/bench_gateway.md and its plot, from the run's result.

Apart from the load driver so that the wording and the target check can change without touching it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scripts.gateway_bench_load import MESSAGES


def plot(rows: list[dict[str, Any]], out: Path) -> None:
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


def markdown(result: dict[str, Any]) -> str:
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
        "level divided by the messages answered. Apologies = messages the gateway answered with its "
        "apology (Rasa too slow or busy: kept and answered later) instead of the bot's answer; msg/s "
        "counts answers only.",
        "",
        "| chats | path | sent | p50 (ms) | p95 (ms) | msg/s | errors | lost | apologies "
        "| CPU ms/msg gateway / rasa / actions |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cpu = r["cpu_ms_per_msg"]
        lines.append(
            f"| {r['chats']} | {r['path']} | {r['sent']} | {r['p50_ms']} | {r['p95_ms']} | {r['msgs_per_s']} "
            f"| {r['errors']} | {r['lost']} | {r.get('apologies', 0)} "
            f"| {cpu.get('gateway')} / {cpu.get('rasa')} / {cpu.get('actions')} |"
        )
    soak = result["soak"]
    before, after = result["rss_before_mb"], result["rss_after_mb"]
    lines += [
        "",
        f"**Soak**: {soak['chats']} chats through the gateway for {soak['seconds']:.0f} s: "
        f"{soak['sent']} messages, p50 {soak['p50_ms']} ms, p95 {soak['p95_ms']} ms, "
        f"{soak['msgs_per_s']} msg/s, {soak['errors']} errors, {soak['lost']} lost, "
        f"{soak.get('apologies', 0)} apologies. "
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
