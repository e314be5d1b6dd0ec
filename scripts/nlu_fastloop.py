"""Seconds-long NLU experiments: the LinearIntentClassifier's model without `rasa train`.

Embeds every training and evaluation text once with the exported m3e-small ONNX model (the
M3EFeaturizer's encoder and pooling, cached in var/nlu-fastloop/), adds the RegexFeaturizer's
sentence hits (the patterns and lookups of bot/data/lookups.yml), fits the LinearIntentModel of
bot/components/linear_intent_model.py on bot/data/ and scores it on the test split (first intent) and
the real-text sets (acceptable set). It embeds with the featurizer's own encoder, one text per call
as the pipeline does, so its scores are within a message of `make train` + `make nlu-report`'s
(2026-12-07: the same on the three older real sets, 0.969 against 0.966 on the test split), which
stays the judge. ``--fallback-curve`` prints what each FallbackClassifier setting would cost.

The clean hold-out set is scored in aggregate only (its misclassified texts are never printed, so
no training data is written from them); ``--errors`` lists the errors of the other sets. The untouched
set (tests/data/nlu_real_holdout3.yml) is left out unless ``--untouched`` is given: score it once,
when tuning is over. Dev set 4 (tests/data/nlu_real_dev4.yml) is scored like the old dev set (``--errors``
lists its errors); the blind set 4 (tests/data/nlu_real_holdout4.yml) only with ``--blind``, and then in
aggregate only: never its texts, and ``--confusion`` skips it.

Run in the Rasa venv (same scikit-learn as training):
  PYTHONPATH=$PWD .venv-rasa/bin/python scripts/nlu_fastloop.py [--C 30] [--char-weight 0.5] ...
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.components.linear_intent_model import LinearIntentModel  # noqa: E402
from kefu.textnorm import normalize  # noqa: E402
from scripts.nlu_report import (  # noqa: E402
    BLIND_SETS,
    CLEAN_SETS,
    REAL_SETS,
    REAL_UNTOUCHED,
    TEST_SPLIT,
    TRAIN_DIR,
    example_texts,
)

CACHE = ROOT / "var" / "nlu-fastloop" / "vectors-single.npz"
ONNX_DIR = ROOT / "var" / "models" / "m3e-small"
Vectors = npt.NDArray[np.float32]


class Embedder:
    """m3e-small sentence vectors (mean over word pieces, L2-normalised), cached by text."""

    def __init__(self, model_dir: Path, cache: Path) -> None:
        self._dir = model_dir
        self._cache_path = cache
        self._cache: dict[str, Vectors] = {}
        self._encoder: Any = None
        if cache.exists():
            with np.load(cache, allow_pickle=False) as data:
                keys = [str(k) for k in data["keys"]]
                self._cache = dict(zip(keys, data["vectors"], strict=True))

    def _key(self, text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def _encode(self, text: str) -> Vectors:
        # The featurizer's own encoder and pooling, one text per call as config.yml has it (the int8
        # model's activation scale is per batch): the vectors `rasa train` and a live parse see.
        from bot.components.m3e_featurizer import encoder_for, sentence_vector

        if self._encoder is None:
            self._encoder = encoder_for(self._dir, 1, 256)
        ((hidden, _),) = self._encoder.encode([text])
        out: Vectors = sentence_vector(hidden)[0].astype(np.float32)
        return out

    def __call__(self, texts: Sequence[str]) -> Vectors:
        todo = sorted({t for t in texts if self._key(t) not in self._cache}, key=len)
        for text in todo:
            self._cache[self._key(text)] = self._encode(text)
        if todo:
            self._cache_path.parent.mkdir(parents=True, exist_ok=True)
            keys = list(self._cache)
            np.savez(self._cache_path, keys=np.array(keys), vectors=np.stack([self._cache[k] for k in keys]))
        return np.stack([self._cache[self._key(t)] for t in texts])


def regex_patterns() -> list[re.Pattern[str]]:
    """The RegexFeaturizer's patterns in file order (regexes, then lookup tables as alternations)."""
    data = yaml.safe_load((TRAIN_DIR / "lookups.yml").read_text(encoding="utf-8"))
    out = []
    for block in data["nlu"]:
        items = [line[2:].strip() for line in block["examples"].splitlines() if line.strip().startswith("- ")]
        if "regex" in block:
            out += [re.compile(p) for p in items]
        else:
            out.append(re.compile("|".join(re.escape(i) for i in items)))
    return out


def regex_hits(texts: Sequence[str], patterns: list[re.Pattern[str]]) -> Vectors:
    return np.array([[float(bool(p.search(t))) for p in patterns] for t in texts], dtype=np.float32)


def load(path: Path) -> tuple[list[str], list[str], list[list[str]]]:
    texts, firsts, acceptable = [], [], []
    for text, intent, md in example_texts(path):
        texts.append(normalize(text))
        firsts.append(intent)
        acceptable.append(list(md.get("acceptable") or [intent]))
    return texts, firsts, acceptable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--C", type=float, default=30.0)
    parser.add_argument("--char-weight", type=float, default=0.8)
    parser.add_argument("--balanced", action="store_true")
    parser.add_argument("--no-regex", action="store_true")
    parser.add_argument("--train-glob", default="nlu*.yml")
    parser.add_argument("--exclude", nargs="*", default=[], help="training files to leave out (names)")
    parser.add_argument("--errors", action="store_true", help="list errors (never of the clean sets)")
    parser.add_argument(
        "--confusion", action="store_true", help="count errors by (filed intent -> predicted), texts withheld"
    )
    parser.add_argument(
        "--fallback-curve",
        action="store_true",
        help="right intents lost / wrong ones caught per FallbackClassifier setting (older real sets)",
    )
    parser.add_argument(
        "--untouched", action="store_true", help="also score the untouched set (only once tuning is over)"
    )
    parser.add_argument(
        "--blind",
        action="store_true",
        help="also score blind set 4, aggregate only (once, when tuning is over)",
    )
    args = parser.parse_args()

    embed = Embedder(ONNX_DIR, CACHE)
    patterns = [] if args.no_regex else regex_patterns()
    train_t: list[str] = []
    train_y: list[str] = []
    for f in sorted(TRAIN_DIR.glob(args.train_glob)):
        if f.name in args.exclude:
            continue
        t, y, _ = load(f)
        train_t += t
        train_y += y

    def feats(texts: list[str]) -> Vectors:
        return np.hstack([embed(texts), regex_hits(texts, patterns)]) if patterns else embed(texts)

    model = LinearIntentModel.fit(
        feats(train_t), train_t, train_y, c=args.C, char_weight=args.char_weight, balanced=args.balanced
    )
    sets = [(TEST_SPLIT, "test split")] + [
        (p, title)
        for p, _, title, _ in REAL_SETS
        if (args.untouched or p != REAL_UNTOUCHED) and (args.blind or p not in BLIND_SETS)
    ]
    curve: list[tuple[float, float, bool]] = []  # (top, gap to second, right) on the older real sets
    for path, title in sets:
        texts, firsts, acceptable = load(path)
        probs = model.predict_proba(feats(texts), texts)
        pred = [model.intents[i] for i in probs.argmax(axis=1)]
        ok = [p in a for p, a in zip(pred, acceptable, strict=True)]
        first = np.mean([p == f for p, f in zip(pred, firsts, strict=True)])
        print(f"{title:20s} n={len(texts):4d} acceptable {np.mean(ok):.3f} first {first:.3f}")
        if path in (REAL_SETS[0][0], REAL_SETS[1][0]):
            top2 = np.sort(probs, axis=1)[:, -2:]
            curve += [(float(b), float(b - a), good) for (a, b), good in zip(top2, ok, strict=True)]
        if args.confusion and path not in BLIND_SETS:
            pairs = Counter((a[0], p) for p, a, good in zip(pred, acceptable, ok, strict=True) if not good)
            for (filed, p), n in pairs.most_common(12):
                print(f"    {n:3d}  {filed:15s} -> {p}")
        if args.errors and path not in CLEAN_SETS:
            for text, p, a, good in zip(texts, pred, acceptable, ok, strict=True):
                if not good:
                    print(f"    {'/'.join(a):40s} -> {p:15s} {text[:70]}")
    if args.fallback_curve:
        print_fallback_curve(curve)


def print_fallback_curve(curve: list[tuple[float, float, bool]]) -> None:
    """Right intents the fallback would throw away against wrong ones it would catch.

    The FallbackClassifier answers nlu_fallback when the top confidence is under ``threshold`` or
    within ``gap`` of the second; a setting pays while it catches at least as many wrong intents as
    it loses right ones.
    """
    print(f"fallback curve, two older real sets (n={len(curve)}): threshold gap -> lost right / caught wrong")
    for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
        for gap in (0.0, 0.02, 0.04, 0.08):
            hit = [good for top, diff, good in curve if top < threshold or diff < gap]
            print(f"    {threshold:.2f} {gap:.2f} -> {sum(hit):3d} / {len(hit) - sum(hit):3d}")


if __name__ == "__main__":
    main()
