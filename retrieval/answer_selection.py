"""Pick the passage of the top sections that answers the question asked, and quote its answer first.

Section ranking finds where the answer lives; inside those sections the passages still answer
different questions ("要带啥" vs "要填纸质表吗"). Each passage is scored against the question itself:
its section's score, its own dense and BM25 scores, how close the question is to the FAQ question the
passage answers, and whether it carries what the question type asks for (a time limit, a list of
materials, an amount, a yes/no). The quote then leads with the sentence holding that figure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retrieval.chunking import Chunk
from retrieval.embedder import Vectors
from retrieval.gate import domain_terms_in
from retrieval.question_analysis import (
    CITATION_TAIL,
    FIGURE_TYPES,
    SENTENCE,
    asked_numbers,
    asked_unit,
    bigrams,
    figure_strength,
    named_share,
    names_number,
    number_with_unit,
    overlap,
    question_type,
)


@dataclass(frozen=True)
class Weights:
    """Grid-searched on tests/data/kb_answers.jsonl, confirmed on tests/data/kb_answers_dev2.jsonl and
    dev3 (docs/kb_answers.md): a matching FAQ question counts less than it did (2.0 -> 1.0), so a
    passage carrying the asked figure beats one whose question merely sounds alike."""

    section: float = 1.0
    dense: float = 1.5
    bm25: float = 0.25
    faq_question: float = 1.0
    figure: float = 1.0
    named: float = 0.5


KeywordScores = Callable[[str, list[int]], list[float]]


class AnswerSelector:
    """Built once per loaded index (FAQ questions embedded, passage vectors kept), never per request.

    `passage_vectors` holds every chunk's vector in chunk order (read back from the FAISS index), so
    each candidate passage gets its own cosine to the question; `keyword_scores(question, ids)` gives
    the BM25 score of the candidates, not only of the top-k keyword hits.
    """

    def __init__(
        self,
        chunks: list[Chunk],
        faq_question_vectors: Vectors,
        passage_vectors: Vectors,
        keyword_scores: KeywordScores,
        weights: Weights | None = None,
    ):
        self.chunks = chunks
        self.weights = weights or Weights()
        self._faq_rows = [i for i, c in enumerate(chunks) if c.kind == "faq"]
        self._faq_row = {chunk: row for row, chunk in enumerate(self._faq_rows)}
        self._faq_vectors = faq_question_vectors
        self._passages = passage_vectors
        self._keyword_scores = keyword_scores
        self._by_section: dict[str, list[int]] = {}
        for i, c in enumerate(chunks):
            if c.kind != "question" and c.section:
                self._by_section.setdefault(c.section, []).append(i)
        self._bodies = [CITATION_TAIL.sub("", c.text) for c in chunks]
        self._lower_bodies = [b.lower() for b in self._bodies]
        self._title_grams = [bigrams(c.title_path[-1]) if c.title_path else set() for c in chunks]

    @staticmethod
    def faq_questions(chunks: list[Chunk]) -> list[str]:
        """The texts to embed for the constructor, in chunk order."""
        return [c.title_path[-1] if c.title_path else c.text for c in chunks if c.kind == "faq"]

    def select(self, question: str, query_vector: Vectors, sections: list[tuple[str, float]]) -> int | None:
        """The chunk index answering `question` among the passages of `sections` (name, score)."""
        cands, features = self.features(question, query_vector, sections)
        if not cands:
            return None
        w = self.weights
        weights = np.array([w.section, w.dense, w.bm25, w.faq_question, w.figure, w.named])
        return cands[int(np.argmax(features @ weights))]

    def features(
        self, question: str, query_vector: Vectors, sections: list[tuple[str, float]]
    ) -> tuple[list[int], np.ndarray]:
        """The candidate passages and one row per candidate: section prior, dense cosine and BM25
        (both scaled to the candidates' range), FAQ-question match, figure strength, named terms."""
        cands = [i for name, _ in sections for i in self._by_section.get(name, [])]
        if not cands:
            return [], np.zeros((0, 6))
        top = max(sections[0][1], 1e-9)
        prior = {name: score / top for name, score in sections}
        qtype, qgrams, numbers = question_type(question), bigrams(question), asked_numbers(question)
        unit = asked_unit(question, qtype)
        named = numbers | domain_terms_in(question)
        cos = self._passages[cands] @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        bm = np.asarray(self._keyword_scores(question, cands))
        faq_sim = self._faq_similarity(cands, query_vector)
        out = np.zeros((len(cands), 6))
        out[:, 1] = (cos - cos.min()) / (float(cos.max() - cos.min()) or 1.0)
        out[:, 2] = bm / (float(bm.max()) or 1.0)
        for j, i in enumerate(cands):
            chunk, body = self.chunks[i], self._bodies[i]
            out[j, 0] = prior[chunk.section]
            if chunk.kind == "faq":
                shared = len(qgrams & self._title_grams[i]) / len(qgrams) if qgrams else 0.0
                out[j, 3] = max(faq_sim[j], shared)
            out[j, 4] = figure_strength(qtype, body, unit)
            out[j, 5] = named_share(self._lower_bodies[i], named) + number_with_unit(body, numbers, unit)
        return cands, out

    def _faq_similarity(self, cands: list[int], query_vector: Vectors) -> list[float]:
        """Cosine of the question to the FAQ question each FAQ passage answers, rescaled from 0.6..1."""
        out = [0.0] * len(cands)
        rows = [(j, self._faq_row[i]) for j, i in enumerate(cands) if i in self._faq_row]
        if rows and len(self._faq_vectors):
            sims = self._faq_vectors[[r for _, r in rows]] @ query_vector.reshape(-1)
            for (j, _), s in zip(rows, sims, strict=True):
                out[j] = max(0.0, (float(s) - 0.6) / 0.4)
        return out


def answer_quote(text: str, question: str, max_chars: int = 120) -> str:
    """Up to ~max_chars of the passage, the sentence answering the question first.

    For a time limit, materials or an amount the sentence holding the figure leads; otherwise the
    passage's own opening does (FAQ answers open with the answer: 「可以。」「不用。」).
    """
    text = CITATION_TAIL.sub("", re.sub(r"\s+", "", text))
    sentences = [s for s in SENTENCE.split(text) if s]
    if not sentences:
        return ""
    qtype, qgrams, numbers = question_type(question), bigrams(question), asked_numbers(question)
    figure_type, unit = qtype in FIGURE_TYPES, asked_unit(question, qtype)

    def relevance(k: int) -> float:
        figure = figure_strength(qtype, sentences[k], unit) if figure_type else 0.0
        named = 3.0 if numbers and names_number(sentences[k], numbers) else 0.0
        return 2.0 * figure + named + overlap(qgrams, sentences[k]) - 0.01 * k

    lead = max(range(len(sentences)), key=relevance) if figure_type or numbers else 0
    if len(sentences[lead]) < 6 and lead + 1 < len(sentences):  # 「可以。」 alone says too little
        lead_text = sentences[lead] + sentences[lead + 1]
        used = {lead, lead + 1}
    else:
        lead_text, used = sentences[lead], {lead}
    rest = [k for k in range(len(sentences)) if k not in used]
    if rest:
        nxt = max(rest, key=relevance) if qtype else rest[0]
        if len(lead_text) + len(sentences[nxt]) <= max_chars:
            lead_text += sentences[nxt]
    if len(lead_text) > max_chars:
        lead_text = lead_text[:max_chars].rstrip("，,、") + "……"
    return lead_text
