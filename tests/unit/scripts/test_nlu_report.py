"""The NLU report scores real text against each message's set of acceptable intents and keeps the
hold-out set apart from the training data."""

from __future__ import annotations

import json
from pathlib import Path

from scripts import nlu_report
from scripts.nlu_report import REAL_HOLDOUT, example_texts, score_real, train_time_md

DEV = """version: "3.1"
nlu:
- intent: complain
  examples:
  - text: "扣了我600元"
    metadata:
      source: news
      acceptable: [complain, query_account]
  - text: "客服態度太差"
    metadata:
      source: blog
      acceptable: [complain]
"""


def _results(folder: Path, rows: list[tuple[str, str]]) -> Path:
    folder.mkdir()
    out = [{"text": t, "intent": "complain", "intent_prediction": {"name": p}} for t, p in rows]
    (folder / "intent_successes.json").write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return folder


def test_a_prediction_in_the_acceptable_set_counts_and_the_rest_are_errors(tmp_path: Path) -> None:
    dev = tmp_path / "dev.yml"
    dev.write_text(DEV, encoding="utf-8")
    out = _results(tmp_path / "out", [("扣了我600元", "query_account"), ("客服态度太差", "inform")])
    per_source, errors = score_real(dev, out)
    assert per_source == {"blog": (0, 1), "news": (1, 1)}
    assert errors == [("blog", "客服态度太差", "complain", "inform")]


def test_the_training_time_comes_from_the_time_log(tmp_path: Path) -> None:
    log = tmp_path / "train_time.log"
    log.write_text(
        "\tUser time (seconds): 250.10\n\tSystem time (seconds): 20.40\n"
        "\tElapsed (wall clock) time (h:mm:ss or m:ss): 9:30.12\n",
        encoding="utf-8",
    )
    assert train_time_md(log).startswith(
        "Last training (`rasa train`, NLU + dialogue policies), measured with `/usr/bin/time -v`: wall "
        "clock 9:30.12, CPU 270 s (user 250.10 s + system 20.40 s)."
    )
    assert train_time_md(tmp_path / "missing.log") == ""


def test_the_hold_out_set_has_sources_addresses_and_is_not_in_the_training_data() -> None:
    examples = example_texts(REAL_HOLDOUT)
    assert len(examples) >= 150
    assert all(md.get("source") and md.get("url") and md.get("acceptable") for _, _, md in examples)
    assert all(intent == md["acceptable"][0] for _, intent, md in examples)
    nlu_report.check_independent()  # exits when a real-text message is found in bot/data/
