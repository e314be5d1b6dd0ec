"""Calibrate the KB confidence gate from a curve; writes docs/kb_gate.md and docs/kb_gate.png.

Answerable: tests/data/kb_dev.jsonl and the answerable rows of tests/data/kb_answers.jsonl (four
registers). Off-topic: the off-topic rows of kb_answers.jsonl and tests/data/kb_gate_offtopic.jsonl,
many of them worded like service questions (要带啥, 多少钱). The chosen thresholds answer the most
answerable questions while at most MAX_WRONG of the off-topic ones get an answer.
"""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from retrieval.knowledge_base import KnowledgeBase
from retrieval.settings import REPO_ROOT, RetrievalSettings

DATA, DOCS = REPO_ROOT / "tests" / "data", REPO_ROOT / "docs"
MAX_WRONG = 0.04
QUESTION_GRID = [round(0.70 + 0.01 * i, 2) for i in range(21)]
STRONG_GRID = [0.74, 0.76, 0.78, 0.80, 0.82, 0.84, 0.86, 0.88]


def rows(name: str) -> list[dict[str, object]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def rate(scores: list[tuple[float, float]], tq: float, ts: float) -> float:
    return sum(q >= tq or p >= ts for q, p in scores) / max(1, len(scores))


def main() -> None:
    kb = KnowledgeBase(RetrievalSettings())
    answers = rows("kb_answers.jsonl")
    answerable = [r for r in answers if not r.get("off_topic")] + rows("kb_dev.jsonl")
    off_topic = [r for r in answers if r.get("off_topic")] + rows("kb_gate_offtopic.jsonl")
    pos = [kb.gate_scores(str(r["question"])) for r in answerable]
    neg = [kb.gate_scores(str(r["question"])) for r in off_topic]
    grid = [(tq, ts, rate(pos, tq, ts), rate(neg, tq, ts)) for tq in QUESTION_GRID for ts in STRONG_GRID]
    tq, ts, ans, wrong = max((g for g in grid if g[3] <= MAX_WRONG), key=lambda g: (g[2], -g[3], g[0]))
    fig, ax = plt.subplots(figsize=(6, 4))
    for strong in STRONG_GRID:
        pts = [(g[3], g[2]) for g in grid if g[1] == strong]
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker=".", label=f"strong {strong}")
    ax.scatter([wrong], [ans], color="red", zorder=5, label=f"chosen q={tq} s={ts}")
    ax.set_xlabel("off-topic questions answered (wrong-answer rate)")
    ax.set_ylabel("answerable questions answered")
    ax.set_title("KB gate: question threshold swept 0.70..0.90")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(DOCS / "kb_gate.png", dpi=110)
    by_register: dict[str, list[tuple[float, float]]] = {}
    for r, sc in zip(answerable, pos, strict=True):
        by_register.setdefault(str(r.get("register", "dev set")), []).append(sc)
    lines = [
        "# KB confidence gate calibration",
        "",
        "Written by `scripts/kb_gate_curve.py`. The gate answers when the question's dense cosine to a",
        "typical question reaches `KEFU_KB_QUESTION_THRESHOLD`, or its cosine to a passage reaches",
        "`KEFU_KB_STRONG_THRESHOLD`. Chosen: the most answerable questions answered with at most",
        f"{MAX_WRONG:.0%} of off-topic questions answered.",
        "",
        f"Answerable: {len(pos)} questions; off-topic: {len(neg)} questions.",
        "",
        f"**Chosen: question {tq}, strong {ts}: answerable answered {ans:.3f}, "
        f"off-topic answered {wrong:.3f}.**",
        "",
        "| register | n | answered at the chosen gate |",
        "|---|---|---|",
        *[f"| {k} | {len(v)} | {rate(v, tq, ts):.3f} |" for k, v in sorted(by_register.items())],
        "",
        "![curve](kb_gate.png)",
        "",
        "| question threshold | strong threshold | answerable answered | off-topic answered |",
        "|---|---|---|---|",
        *[f"| {g[0]} | {g[1]} | {g[2]:.3f} | {g[3]:.3f} |" for g in grid if g[1] == ts],
    ]
    (DOCS / "kb_gate.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"chosen question {tq} strong {ts}: answered {ans:.3f}, off-topic answered {wrong:.3f}")


if __name__ == "__main__":
    main()
