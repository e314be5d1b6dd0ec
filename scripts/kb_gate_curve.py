"""Calibrate the KB confidence gate from a curve; writes docs/kb_gate.md and docs/kb_gate.png.

Answerable: tests/data/kb_dev.jsonl and the answerable rows of tests/data/kb_answers.jsonl (four
registers). Off-topic: the off-topic rows of kb_answers.jsonl, tests/data/kb_gate_offtopic.jsonl and
tests/data/kb_gate_lookalikes.jsonl (other organisations' hotlines, counters, deadlines and fees worded
like service questions: 要带啥, 多少钱, 多久到账). Four thresholds are swept: the cosine to a typical
question, the cosine to a passage, the lower cosine enough for a question naming a term of the
telecom dictionary, and the higher cosine to a typical question required of a question naming another
organisation (knowledge_base/out_of_domain.txt). The chosen ones answer the most answerable questions
while at most MAX_WRONG of the general off-topic questions (the first two files) get an answer; ties
go to fewer look-alikes answered, then fewer off-topic answers, then stricter thresholds. The
look-alikes are kept out of the MAX_WRONG budget on purpose: they are written to sit as close to our
questions as the wording allows, and holding them to 4% only moved the question threshold up (0.85:
answerable answered 0.97 -> 0.91 on the dev set) while the other-organisation rule declines them
without losing an answerable question. tests/data/kb_answers_dev2.jsonl and dev3 are left out: they
confirm the choice (their rates are printed with it).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from retrieval.answer_eval import load_rows
from retrieval.gate import GateScores
from retrieval.knowledge_base import KnowledgeBase
from retrieval.settings import REPO_ROOT, RetrievalSettings

DATA, DOCS = REPO_ROOT / "tests" / "data", REPO_ROOT / "docs"
MAX_WRONG = 0.04
QUESTION_GRID = [round(0.70 + 0.01 * i, 2) for i in range(21)]
STRONG_GRID = [0.74, 0.76, 0.78, 0.80, 0.82, 0.84, 0.86, 0.88]
DOMAIN_GRID = [round(0.70 + 0.01 * i, 2) for i in range(15)] + [1.0]  # 1.0: no domain rule
FOREIGN_GRID = [round(0.84 + 0.02 * i, 2) for i in range(7)] + [1.0]  # 1.0: never answered
CONFIRM = ("kb_answers_dev2.jsonl", "kb_answers_dev3.jsonl")
# question, strong, domain, foreign thresholds; answered; general off-topic answered; look-alikes answered
Point = tuple[float, float, float, float, float, float, float]


def rows(name: str) -> list[dict[str, object]]:
    return load_rows(DATA / name)


def answers(g: GateScores, tq: float, ts: float, td: float, tf: float) -> bool:
    """retrieval.gate.passes with typical questions indexed, for given thresholds."""
    if g.foreign:
        return g.question_cos >= tf
    best = max(g.question_cos, g.passage_cos)
    return g.question_cos >= tq or g.passage_cos >= ts or (g.domain and best >= td)


def rate(scores: list[GateScores], tq: float, ts: float, td: float, tf: float) -> float:
    return sum(answers(g, tq, ts, td, tf) for g in scores) / max(1, len(scores))


def main() -> None:
    kb = KnowledgeBase(RetrievalSettings())
    answers = rows("kb_answers.jsonl")
    answerable = [r for r in answers if not r.get("off_topic")] + rows("kb_dev.jsonl")
    off_topic = [r for r in answers if r.get("off_topic")] + rows("kb_gate_offtopic.jsonl")
    pos = [kb.gate_scores(str(r["question"])) for r in answerable]
    neg = [kb.gate_scores(str(r["question"])) for r in off_topic]
    alike = [kb.gate_scores(str(r["question"])) for r in rows("kb_gate_lookalikes.jsonl")]
    confirm = [r for name in CONFIRM for r in rows(name)]
    confirm_pos = [kb.gate_scores(str(r["question"])) for r in confirm if not r.get("off_topic")]
    confirm_neg = [kb.gate_scores(str(r["question"])) for r in confirm if r.get("off_topic")]
    grid: list[Point] = [
        (tq, ts, td, tf, rate(pos, tq, ts, td, tf), rate(neg, tq, ts, td, tf), rate(alike, tq, ts, td, tf))
        for tq in QUESTION_GRID
        for ts in STRONG_GRID
        for td in DOMAIN_GRID
        for tf in FOREIGN_GRID
    ]
    tq, ts, td, tf, ans, wrong, alike_wrong = max(
        (g for g in grid if g[5] <= MAX_WRONG),
        key=lambda g: (g[4], -g[6], -g[5], g[0] + g[1] + g[2] + g[3]),
    )
    chosen = (tq, ts, td, tf)
    confirm_ans, confirm_wrong = rate(confirm_pos, *chosen), rate(confirm_neg, *chosen)
    fig, ax = plt.subplots(figsize=(6, 4))
    for domain in DOMAIN_GRID:
        pts = [(g[5], g[4]) for g in grid if g[1] == ts and g[2] == domain and g[3] == tf]
        label = "no domain rule" if domain == 1.0 else f"domain {domain}"
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker=".", label=label)
    ax.scatter([wrong], [ans], color="red", zorder=5, label=f"chosen q={tq} s={ts} d={td} f={tf}")
    ax.set_xlabel("off-topic questions answered (wrong-answer rate)")
    ax.set_ylabel("answerable questions answered")
    ax.set_title(f"KB gate: question threshold swept 0.70..0.90 (strong {ts}, foreign {tf})")
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
        "A question naming another organisation (`knowledge_base/out_of_domain.txt`: banks, airlines,",
        "couriers, public offices, 12315 …) is answered only when its cosine to a typical question",
        "reaches `KEFU_KB_FOREIGN_THRESHOLD` (1.0: never).",
        "Chosen: the most answerable questions answered with at most",
        f"{MAX_WRONG:.0%} of the general off-topic questions answered; ties go to fewer look-alikes",
        "answered (other organisations' questions worded like ours, `kb_gate_lookalikes.jsonl`).",
        "",
        f"Answerable: {len(pos)} questions (kb_answers.jsonl, kb_dev.jsonl); general off-topic: "
        f"{len(neg)} (kb_answers.jsonl, kb_gate_offtopic.jsonl); look-alikes: {len(alike)}.",
        "",
        f"**Chosen: question {tq}, strong {ts}, domain {td}, foreign {tf}: answerable answered "
        f"{ans:.3f}, off-topic answered {wrong:.3f}, look-alikes answered {alike_wrong:.3f}.**",
        "",
        f"Confirmed on {' and '.join(CONFIRM)} (not used to choose): answerable answered "
        f"{confirm_ans:.3f} ({len(confirm_pos)}), off-topic answered {confirm_wrong:.3f} "
        f"({len(confirm_neg)}).",
        "",
        "| register | n | answered at the chosen gate |",
        "|---|---|---|",
        *[f"| {k} | {len(v)} | {rate(v, *chosen):.3f} |" for k, v in sorted(by_register.items())],
        "",
        "![curve](kb_gate.png)",
        "",
        f"Question threshold swept at strong {ts} and foreign {tf}, with the chosen domain rule and",
        "without it:",
        "",
        "| question threshold | domain threshold | answerable answered | off-topic answered "
        "| look-alikes answered |",
        "|---|---|---|---|---|",
        *[
            f"| {g[0]} | {'none' if g[2] == 1.0 else g[2]} | {g[4]:.3f} | {g[5]:.3f} | {g[6]:.3f} |"
            for g in grid
            if g[1] == ts and g[2] in (td, 1.0) and g[3] == tf
        ],
        "",
        f"Foreign threshold swept at the chosen question {tq}, strong {ts}, domain {td}:",
        "",
        "| foreign threshold | answerable answered | off-topic answered | look-alikes answered |",
        "|---|---|---|---|",
        *[
            f"| {'never' if g[3] == 1.0 else g[3]} | {g[4]:.3f} | {g[5]:.3f} | {g[6]:.3f} |"
            for g in grid
            if g[:3] == (tq, ts, td)
        ],
    ]
    (DOCS / "kb_gate.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(
        f"chosen question {tq} strong {ts} domain {td} foreign {tf}: answered {ans:.3f}, off-topic "
        f"answered {wrong:.3f}, look-alikes {alike_wrong:.3f}; confirm sets: answered {confirm_ans:.3f}, "
        f"off-topic {confirm_wrong:.3f}"
    )


if __name__ == "__main__":
    main()
