"""Turn `rasa test nlu` output into docs/nlu.md: accuracy, macro-F1, per-intent scores, confusions.

Usage (from the repo root):
    .venv-rasa/bin/rasa test nlu --nlu tests/data/nlu_test.yml --model models --out var/nlu-results
    .venv/bin/python scripts/nlu_report.py var/nlu-results docs/nlu.md
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def render(results: Path) -> str:
    report = json.loads((results / "intent_report.json").read_text(encoding="utf-8"))
    errors_path = results / "intent_errors.json"
    errors = json.loads(errors_path.read_text(encoding="utf-8")) if errors_path.exists() else []
    macro = report["macro avg"]
    lines = [
        "# NLU evaluation",
        "",
        "Held-out split `tests/data/nlu_test.yml` (never trained on), model trained from `bot/data/`.",
        "Regenerate with the two commands in `scripts/nlu_report.py`.",
        "",
        f"- intent accuracy: **{report['accuracy']:.3f}**",
        f"- macro-F1: **{macro['f1-score']:.3f}** "
        f"(precision {macro['precision']:.3f}, recall {macro['recall']:.3f})",
        f"- test messages: {macro['support']}",
        "",
        "| intent | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for name, row in sorted(report.items()):
        if (
            isinstance(row, dict)
            and "support" in row
            and name not in ("macro avg", "weighted avg", "micro avg")
        ):
            scores = " | ".join(f"{row[k]:.2f}" for k in ("precision", "recall", "f1-score"))
            lines.append(f"| {name} | {scores} | {row['support']} |")
    pairs = Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
    lines += ["", "## Confusions (true → predicted)", ""]
    if pairs:
        lines += ["| true | predicted | count |", "|---|---|---|"]
        lines += [f"| {t} | {p} | {n} |" for (t, p), n in pairs.most_common()]
        lines += ["", "Misclassified messages:", ""]
        lines += [f"- {e['text']} — {e['intent']} → {e['intent_prediction']['name']}" for e in errors]
    else:
        lines.append("None.")
    lines += ["", "![confusion matrix](nlu_confusion_matrix.png)"]
    return "\n".join(lines) + "\n"


def main() -> None:
    results = Path(sys.argv[1] if len(sys.argv) > 1 else "var/nlu-results")
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/nlu.md")
    out.write_text(render(results), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
