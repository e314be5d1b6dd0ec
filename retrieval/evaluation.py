"""hit@k and MRR for dense, BM25 and hybrid.

Matching rule: a gold "3.4" (two levels) is matched by a hit on 3.4 or any 3.4.x.
A gold "3.4.2" is matched by a hit on "3.4.2" exactly, or by its parent "3.4" only when the index has
no chunk for any 3.4.x (the parent section has no subsections).
Only the section a hit shows counts (what `search --json` prints); an FAQ answer counts for the
first guide section it cites. Ranked entries may still be written "5.1.3|1.4" to count several.
"""

from __future__ import annotations

import json
from pathlib import Path

from retrieval.knowledge_base import KnowledgeBase

MODES = ("dense", "bm25", "hybrid")


def section_matches(hit: str, gold: str, subsectioned: set[str]) -> bool:
    if not hit:
        return False
    if gold.count(".") <= 1:
        return hit == gold or hit.startswith(gold + ".")
    parent = ".".join(gold.split(".")[:2])
    return hit == gold or (hit == parent and parent not in subsectioned)


def load_eval(path: str | Path) -> list[dict[str, object]]:
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def metrics(
    ranked_sections: list[list[str]], golds: list[list[str]], subsectioned: set[str]
) -> dict[str, float]:
    out = {"hit@1": 0.0, "hit@3": 0.0, "hit@5": 0.0, "mrr": 0.0}
    for sections, gold in zip(ranked_sections, golds, strict=True):
        rank = next(
            (
                r
                for r, entry in enumerate(sections, 1)
                if any(section_matches(s, g, subsectioned) for s in entry.split("|") for g in gold)
            ),
            None,
        )
        if rank:
            out["mrr"] += 1 / rank
            for k in (1, 3, 5):
                out[f"hit@{k}"] += rank <= k
    n = max(1, len(golds))
    return {k: v / n for k, v in out.items()}


def evaluate(kb: KnowledgeBase, rows: list[dict[str, object]]) -> dict[str, dict[str, float]]:
    subsectioned = {".".join(c.section.split(".")[:2]) for c in kb.chunks if c.section.count(".") >= 2}
    golds = [[str(s) for s in row["sections"]] for row in rows]  # type: ignore[attr-defined]
    result = {}
    for mode in MODES:
        ranked = [
            [kb.chunks[i].section for i, _, _ in kb.rank(str(row["question"]), mode, 10)] for row in rows
        ]
        result[mode] = metrics(ranked, golds, subsectioned)
    return result


def evaluate_file(kb: KnowledgeBase, path: str | Path) -> dict[str, dict[str, float]]:
    return evaluate(kb, load_eval(path))


def format_table(result: dict[str, dict[str, float]]) -> str:
    lines = [f"{'':8}" + "".join(f"{m:>10}" for m in ("hit@1", "hit@3", "hit@5", "mrr"))]
    for mode, m in result.items():
        lines.append(f"{mode:8}" + "".join(f"{m[k]:>10.3f}" for k in ("hit@1", "hit@3", "hit@5", "mrr")))
    return "\n".join(lines)
