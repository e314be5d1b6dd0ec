"""The NLU report scores real text against each message's set of acceptable intents, keeps the
hold-out sets apart from the training data and never prints the clean hold-out's misclassified texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import nlu_report
from scripts.nlu_report import (
    CLEAN_SETS,
    REAL_BLIND,
    REAL_CLEAN,
    REAL_DEV4,
    REAL_HOLDOUT,
    REAL_SETS,
    REAL_UNTOUCHED,
    components_md,
    example_texts,
    render,
    score_real,
    train_time_md,
)

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


@pytest.mark.parametrize(
    ("path", "size"),
    [(REAL_HOLDOUT, 150), (REAL_CLEAN, 150), (REAL_UNTOUCHED, 250), (REAL_DEV4, 120), (REAL_BLIND, 150)],
    ids=["holdout", "clean", "untouched", "dev4", "blind"],
)
def test_the_real_sets_have_sources_addresses_and_are_not_in_the_training_data(path: Path, size: int) -> None:
    examples = example_texts(path)
    assert len(examples) >= size
    assert all(md.get("source") and md.get("url") and md.get("acceptable") for _, _, md in examples)
    assert all(intent == md["acceptable"][0] for _, intent, md in examples)
    nlu_report.check_independent()  # exits when a real-text message is found in bot/data/


def test_the_report_counts_the_clean_sets_errors_but_does_not_print_their_texts(tmp_path: Path) -> None:
    test_out = tmp_path / "test"
    test_out.mkdir()
    macro = {"f1-score": 0.9, "precision": 0.9, "recall": 0.9, "support": 1}
    (test_out / "intent_report.json").write_text(json.dumps({"accuracy": 0.9, "macro avg": macro}))
    (test_out / "intent_errors.json").write_text("[]")
    real_outs = []
    for path, name, _, _ in REAL_SETS:
        texts = [(t, "greet") for t, _, md in example_texts(path) if "greet" not in md["acceptable"]]
        out = _results(tmp_path / name, texts)
        (out / "intent_report.json").write_text(json.dumps({"accuracy": 0.0}))
        real_outs.append(out)
    page = render(test_out, real_outs, "", "")
    old_error = next(t for t, _, md in example_texts(REAL_HOLDOUT) if "greet" not in md["acceptable"])
    dev4_error = next(t for t, _, md in example_texts(REAL_DEV4) if "greet" not in md["acceptable"])
    clean_errors = [
        t for path in CLEAN_SETS for t, _, md in example_texts(path) if "greet" not in md["acceptable"]
    ]
    assert old_error in page
    assert dev4_error in page  # dev set 4 is read for error analysis
    assert not [t for t in clean_errors if t in page]
    assert "| out_of_scope | greet |" in page  # the clean set's errors are still counted by kind


def test_training_time_is_added_up_per_component_largest_first(tmp_path: Path) -> None:
    log = tmp_path / "train_components.log"
    log.write_text(
        "train_bot.components.m3e_featurizer.M3EFeaturizer4\t0.2\t0.4\n"
        "run_bot.components.m3e_featurizer.M3EFeaturizer4\t11.7\t15.7\n"
        "train_DIETClassifier6\t202.9\t312.2\n"
        "train_TEDPolicy2\t34.1\t65.1\n"
        "load average\t2.0\t3.6\n",
        encoding="utf-8",
    )
    md = components_md(log)
    rows = [line for line in md.splitlines() if line.startswith("| ") and "CPU" not in line]
    assert rows == [
        "| DIETClassifier | 202.9 | 312.2 |",
        "| TEDPolicy | 34.1 | 65.1 |",
        "| M3EFeaturizer | 11.9 | 16.1 |",
    ]
    assert "Load average (1 min) 2.0 at the start, 3.6 at the end" in md
    assert components_md(tmp_path / "missing.log") == ""
