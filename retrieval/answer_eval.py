"""Answers as customers see them: does the reply carry the asked fact and a citation of its section?

Rows of the JSONL file: {"question", "fact" (regex), "sections"} for answerable questions and
{"question", "off_topic": true} for questions the guide cannot answer. :func:`judge` is the one rule,
used on the knowledge base's answer here and on the chat's reply by ``scripts/kb_chat_eval.py``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.evaluation import section_matches
from retrieval.knowledge_base import KnowledgeBase


@dataclass
class AnswerReport:
    answerable: int = 0
    correct: int = 0  # fact in the reply and a citation of a gold section
    answered: int = 0  # passed the gate
    off_topic: int = 0
    off_topic_answered: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def correct_rate(self) -> float:
        return self.correct / max(1, self.answerable)

    @property
    def answer_rate(self) -> float:
        return self.answered / max(1, self.answerable)

    @property
    def off_topic_rate(self) -> float:
        return self.off_topic_answered / max(1, self.off_topic)

    def summary(self) -> str:
        return (
            f"fact+citation {self.correct}/{self.answerable} = {self.correct_rate:.3f}; "
            f"answered {self.answer_rate:.3f}; "
            f"off-topic answered {self.off_topic_answered}/{self.off_topic} = {self.off_topic_rate:.3f}"
        )


def load_rows(path: str | Path) -> list[dict[str, object]]:
    """One row per line; lines starting with "#" are the file's header (sources and licences)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]


def subsectioned_sections(kb: KnowledgeBase) -> set[str]:
    """The two-level sections with subsections (a gold 3.4.2 is not matched by a citation of 3.4)."""
    return {".".join(c.section.split(".")[:2]) for c in kb.chunks if c.section.count(".") >= 2}


def judge(row: dict[str, object], text: str, cited: list[str], subsectioned: set[str]) -> str:
    """``correct``, or why not: ``no fact``, ``no citation``, ``no fact no citation``."""
    golds = [str(s) for s in row["sections"]]  # type: ignore[attr-defined]
    has_citation = any(section_matches(c, g, subsectioned) for c in cited for g in golds)
    has_fact = re.search(str(row["fact"]), text) is not None
    if has_citation and has_fact:
        return "correct"
    return " ".join(part for part, ok in (("no fact", has_fact), ("no citation", has_citation)) if not ok)


def evaluate_answers(kb: KnowledgeBase, rows: list[dict[str, object]]) -> AnswerReport:
    subsectioned = subsectioned_sections(kb)
    report = AnswerReport()
    for row in rows:
        question = str(row["question"])
        ans = kb.answer(question)
        if row.get("off_topic"):
            report.off_topic += 1
            if ans is not None:
                report.off_topic_answered += 1
                report.failures.append(f"OFF-TOPIC ANSWERED {question} -> {ans.text}")
            continue
        report.answerable += 1
        if ans is None:
            report.failures.append(f"GATED {question}")
            continue
        report.answered += 1
        verdict = judge(row, ans.text, [c["section"] for c in ans.citations], subsectioned)
        if verdict == "correct":
            report.correct += 1
        else:
            report.failures.append(f"WRONG ({verdict}) {question} -> {ans.text}")
    return report
