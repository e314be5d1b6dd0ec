"""Calibrate the KB confidence gate from a curve; writes docs/kb_gate.md and docs/kb_gate.png.

Answerable: tests/data/kb_dev.jsonl and the answerable rows of tests/data/kb_answers.jsonl (four
registers). Off-topic: the off-topic rows of kb_answers.jsonl and tests/data/kb_gate_offtopic.jsonl,
many of them worded like service questions (要带啥, 多少钱). Three thresholds are swept: the cosine to
a typical question, the cosine to a passage, and the lower cosine enough for a question naming a term
of the telecom dictionary. The chosen ones answer the most answerable questions while at most
MAX_WRONG of the off-topic ones get an answer (ties: fewer off-topic answers, then stricter
thresholds). tests/data/kb_answers_dev2.jsonl is left out: it confirms the choice.
"""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from retrieval.gate import GateScores
from retrieval.knowledge_base import KnowledgeBase
from retrieval.settings import REPO_ROOT, RetrievalSettings

DATA, DOCS = REPO_ROOT / "tests" / "data", REPO_ROOT / "docs"
MAX_WRONG = 0.04
QUESTION_GRID = [round(0.70 + 0.01 * i, 2) for i in range(21)]
STRONG_GRID = [0.74, 0.76, 0.78, 0.80, 0.82, 0.84, 0.86, 0.88]
DOMAIN_GRID = [round(0.70 + 0.01 * i, 2) for i in range(15)] + [1.0]  # 1.0: no domain rule
Point = tuple[float, float, float, float, float]  # question, strong, domain thresholds; answered; wrong


def rows(name: str) -> list[dict[str, object]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def answers(g: GateScores, tq: float, ts: float, td: float) -> bool:
    """retrieval.gate.passes with typical questions indexed, for given thresholds."""
    best = max(g.question_cos, g.passage_cos)
    return g.question_cos >= tq or g.passage_cos >= ts or (g.domain and best >= td)


def rate(scores: list[GateScores], tq: float, ts: float, td: float) -> float:
    return sum(answers(g, tq, ts, td) for g in scores) / max(1, len(scores))


def main() -> None:
    kb = KnowledgeBase(RetrievalSettings())
    answers = rows("kb_answers.jsonl")
    answerable = [r for r in answers if not r.get("off_topic")] + rows("kb_dev.jsonl")
    off_topic = [r for r in answers if r.get("off_topic")] + rows("kb_gate_offtopic.jsonl")
    pos = [kb.gate_scores(str(r["question"])) for r in answerable]
    neg = [kb.gate_scores(str(r["question"])) for r in off_topic]
    grid: list[Point] = [
        (tq, ts, td, rate(pos, tq, ts, td), rate(neg, tq, ts, td))
        for tq in QUESTION_GRID
        for ts in STRONG_GRID
        for td in DOMAIN_GRID
    ]
    tq, ts, td, ans, wrong = max(
        (g for g in grid if g[4] <= MAX_WRONG), key=lambda g: (g[3], -g[4], g[0] + g[1] + g[2])
    )
    fig, ax = plt.subplots(figsize=(6, 4))
    for domain in DOMAIN_GRID:
        pts = [(g[4], g[3]) for g in grid if g[1] == ts and g[2] == domain]
        label = "no domain rule" if domain == 1.0 else f"domain {domain}"
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker=".", label=label)
    ax.scatter([wrong], [ans], color="red", zorder=5, label=f"chosen q={tq} s={ts} d={td}")
    ax.set_xlabel("off-topic questions answered (wrong-answer rate)")
    ax.set_ylabel("answerable questions answered")
    ax.set_title(f"KB gate: question threshold swept 0.70..0.90 (strong {ts})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(DOCS / "kb_gate.png", dpi=110)
    by_register: dict[str, list[GateScores]] = {}
    for r, sc in zip(answerable, pos, strict=True):
        by_register.setdefault(str(r.get("register", "dev set")), []).append(sc)
    lines = [
        "# KB confidence gate calibration",
        "",
        "Written by `scripts/kb_gate_curve.py`. The gate answers when the question's dense cosine to a",
        "typical question reaches `KEFU_KB_QUESTION_THRESHOLD`, or its cosine to a passage reaches",
        "`KEFU_KB_STRONG_THRESHOLD`, or the question names a term of the telecom dictionary",
        "(`knowledge_base/dictionary/`) and either cosine reaches `KEFU_KB_DOMAIN_THRESHOLD`.",
        "Chosen: the most answerable questions answered with at most",
        f"{MAX_WRONG:.0%} of off-topic questions answered.",
        "",
        f"Answerable: {len(pos)} questions; off-topic: {len(neg)} questions.",
        "",
        f"**Chosen: question {tq}, strong {ts}, domain {td}: answerable answered {ans:.3f}, "
        f"off-topic answered {wrong:.3f}.**",
        "",
        "| register | n | answered at the chosen gate |",
        "|---|---|---|",
        *[f"| {k} | {len(v)} | {rate(v, tq, ts, td):.3f} |" for k, v in sorted(by_register.items())],
        "",
        "![curve](kb_gate.png)",
        "",
        f"Question threshold swept at strong {ts}, with the chosen domain rule and without it:",
        "",
        "| question threshold | domain threshold | answerable answered | off-topic answered |",
        "|---|---|---|---|",
        *[
            f"| {g[0]} | {'none' if g[2] == 1.0 else g[2]} | {g[3]:.3f} | {g[4]:.3f} |"
            for g in grid
            if g[1] == ts and g[2] in (td, 1.0)
        ],
    ]
    (DOCS / "kb_gate.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"chosen question {tq} strong {ts} domain {td}: answered {ans:.3f}, off-topic answered {wrong:.3f}")


if __name__ == "__main__":
    main()
