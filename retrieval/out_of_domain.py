"""Other organisations' names in a question (knowledge_base/out_of_domain.txt).

「12315投诉多久有结果」 and 「银行人工客服几点上班」 are worded like our own questions and their cosines to
our typical questions are as high as a colloquial telecom question's, so a cosine threshold alone
cannot decline them. Naming a bank, an airline, a courier or a public office is what gives them away;
such a question is answered only when it is very close to one of our typical questions
(`RetrievalSettings.foreign_threshold`, from scripts/kb_gate_curve.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.tokenizer import clean_query, tokenize


def read_terms(path: Path) -> list[str]:
    """One term per line, "#" starts a comment; a missing file means no terms."""
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


@dataclass(frozen=True)
class OutOfDomainTerms:
    """The terms the knowledge base itself never uses, each with the longer words of the knowledge
    base that contain it: 「银行卡」 (a way to pay a bill) shields 「银行」, so 「交费要准备银行卡吗」
    stays ours."""

    terms: tuple[str, ...] = ()
    shields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, terms: Iterable[str], kb_texts: Iterable[str]) -> OutOfDomainTerms:
        vocab: set[str] = set()
        for text in kb_texts:
            vocab.update(tokenize(text))
        kept = tuple(t for t in dict.fromkeys(terms) if t not in vocab)
        shields = {
            t: tuple(sorted((w for w in vocab if t in w and w != t), key=len, reverse=True)) for t in kept
        }
        return cls(kept, shields)

    def named_in(self, query: str) -> tuple[str, ...]:
        """The terms `query` names outside the knowledge base's own words."""
        text = clean_query(query).lower()
        found = []
        for term in self.terms:
            if term not in text:
                continue
            masked = text
            for word in self.shields.get(term, ()):
                masked = masked.replace(word, " ")
            if term in masked:
                found.append(term)
        return tuple(found)
