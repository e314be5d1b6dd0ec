"""Overlap of the NLU training data with the evaluation sets, and near-duplicates inside the training data.

The real-text sets only measure what they claim if nothing in bot/data/ copies or paraphrases them
closely, and training data written in the customers' words must not be a template's near-copies. For
every training example (after kefu.textnorm.normalize) this reports:
  - exact: the same text is in tests/data/nlu_test.yml, a tests/data/nlu_real*.yml set or a question of a
    tests/data/kb_answers*.jsonl set (the KB questions are asked through the chat, so routing data written
    for them must not copy them either);
  - near: a text of those sets has difflib ratio >= --near (0.8) with it;
  - twins (``--twins FILE...``): pairs inside each named training file, and pairs of one of its
    examples with an example of another training file, with ratio >= --near.
The texts of the clean and untouched hold-out sets and of the held-out public KB set are never printed
(counts only), as in docs/nlu.md and docs/kb_answers.md.
Exits 1 when anything exact or near is found against the evaluation sets.

Usage: .venv/bin/python scripts/nlu_overlap.py [--near 0.8] [--twins nlu_posts.yml nlu_phone.yml]
"""

from __future__ import annotations

import argparse
import json
import sys
from difflib import SequenceMatcher
from pathlib import Path

from kefu.textnorm import normalize
from scripts.nlu_report import CLEAN_SETS, TEST_SPLIT, TRAIN_DIR, example_texts

EVAL_DIR = TEST_SPLIT.parent
# Scored through the chat but never read (docs/kb_answers.md): its texts are withheld like the clean sets'.
KB_WITHHELD = {"kb_answers_public.jsonl"}


def _texts(path: Path) -> list[str]:
    return [normalize(t) for t, _, _ in example_texts(path)]


def _kb_questions(path: Path) -> list[str]:
    rows = (
        json.loads(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    return [normalize(row["question"]) for row in rows]


def _close(a: str, b: str, near: float) -> bool:
    # Length and quick_ratio bounds first: difflib's full ratio on ~150k pairs would take minutes.
    if min(len(a), len(b)) / max(len(a), len(b), 1) < near:
        return False
    m = SequenceMatcher(None, a, b)
    return m.real_quick_ratio() >= near and m.quick_ratio() >= near and m.ratio() >= near


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--near", type=float, default=0.8)
    parser.add_argument("--twins", nargs="*", default=[], help="training files to check for near-twins")
    args = parser.parse_args()

    evals = {p.name: _texts(p) for p in [TEST_SPLIT, *sorted(EVAL_DIR.glob("nlu_real*.yml"))]}
    evals |= {p.name: _kb_questions(p) for p in sorted(EVAL_DIR.glob("kb_answers*.jsonl"))}
    withheld = {p.name for p in CLEAN_SETS} | KB_WITHHELD
    found = 0
    for train in sorted(TRAIN_DIR.glob("nlu*.yml")):
        exact = near = 0
        for text in _texts(train):
            for name, texts in evals.items():
                if text in texts:
                    exact += 1
                    shown = "(text withheld)" if name in withheld else text[:60]
                    print(f"  exact  {train.name} ~ {name}: {shown}")
                    continue
                for other in texts:
                    if _close(text, other, args.near):
                        near += 1
                        shown = "(text withheld)" if name in withheld else f"{text[:50]} | {other[:50]}"
                        print(f"  near   {train.name} ~ {name}: {shown}")
        print(f"{train.name:24s} exact {exact}  near(>={args.near}) {near}  against {', '.join(evals)}")
        found += exact + near
    for name in args.twins:
        texts = _texts(TRAIN_DIR / name)
        twins = [(a, b) for i, a in enumerate(texts) for b in texts[i + 1 :] if _close(a, b, args.near)]
        for a, b in twins:
            print(f"  twin   {name}: {a[:50]} | {b[:50]}")
        print(f"{name:24s} near-twin pairs inside the file: {len(twins)} of {len(texts)} examples")
        others = [t for f in sorted(TRAIN_DIR.glob("nlu*.yml")) if f.name != name for t in _texts(f)]
        copies = [(a, b) for a in texts for b in others if _close(a, b, args.near)]
        for a, b in copies:
            print(f"  copy   {name}: {a[:50]} | {b[:50]}")
        print(f"{name:24s} near-copies of other training files' examples: {len(copies)}")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
