"""Pick the passage of the top sections that answers the question asked, and quote its answer first.

Section ranking finds where the answer lives; inside those sections the passages still answer
different questions ("要带啥" vs "要填纸质表吗"). Each passage is scored against the question itself:
its section's score, its own dense and BM25 scores, how close the question is to the FAQ question the
passage answers, and whether it carries what the question type asks for (a time limit, a list of
materials, an amount, a yes/no). The quote then leads with the sentence holding that figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retrieval.chunking import Chunk
from retrieval.embedder import Vectors
from retrieval.gate import SHARED_SERVICE_TERMS, domain_terms_in
from retrieval.question_analysis import (
    CITATION_TAIL,
    SENTENCE,
    asked_numbers,
    asked_unit,
    bigrams,
    figure_strength,
    named_share,
    number_with_unit,
    opener_agrees,
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

# A passage whose FAQ question is this close (feature 0.5: cosine 0.8) is about what a question naming
# no product asks; with a product named (国际漫游, 宽带), the passage or its FAQ question must name it.
ABOUT_FAQ_MATCH = 0.5
# A yes/no opener counts only for a passage whose FAQ question is within this much (feature scale,
# 0.1 = cosine 0.04) of the closest FAQ question among the candidates.
YESNO_FAQ_MARGIN = 0.15
# Section ranking can miss the FAQ whose question is the customer's in other words (「报障的时候要告诉
# 你们哪些信息」 vs 「报修的时候需要提供哪些信息」 in 2.2.1, ranked below 7.2): the closest FAQ question,
# at cosine >= 0.80, brings its passage in, its FAQ-question match standing in for the section prior
# (grid on kb_answers, dev2, dev3: cosine 0.80 / 0.85, one or two FAQs; docs/kb_answers.md).
CLOSE_FAQ_COSINE = 0.80
# An FAQ question this close (feature 0.75: cosine 0.90) is the customer's in other words, so its yes
# or no answers them even with no word in common beyond the product (「拆宽带时光猫要还回去吗」).
SAME_FAQ_QUESTION = 0.75
# When the top sections never name the product asked about, the passages naming it closest to the
# question are the candidates instead (漫游日租包 for 「国际漫游」 when 1.3 ranked first on 「能办…吗」).
TOPIC_PASSAGES = 10
# A procedure's marks (先…再, 营业厅, APP) turn up in most FAQ answers, so for 「携号转网怎么办理」 the
# answer to 「携号转网大概多久能办好」 (a time limit) carries them as well as the one to 「…怎么办理」: an FAQ
# whose own question asks another kind of thing gets this share of the procedure credit (grid 0 / 0.5 / 1
# on kb_answers, dev2, dev3, pubdev: 142/64/43/60, 143/64/43/61, 143/64/43/60). Prices and time limits are
# not discounted: 「加油包多少钱」 is answered by the FAQ asking what to do when data runs out.
OTHER_KIND_FIGURE = 0.5


def topic_terms(question: str) -> set[str]:
    """The products and services a question names (国际漫游, 宽带), not what every desk has (套餐, 营业厅)."""
    return domain_terms_in(question) - SHARED_SERVICE_TERMS


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
        self._lower_titles = [c.title_path[-1].lower() if c.title_path else "" for c in chunks]
        self._title_grams = [bigrams(c.title_path[-1]) if c.title_path else set() for c in chunks]
        self._faq_types = {
            i: question_type(chunks[i].title_path[-1]) for i in self._faq_rows if chunks[i].title_path
        }

    @staticmethod
    def faq_questions(chunks: list[Chunk]) -> list[str]:
        """The texts to embed for the constructor, in chunk order."""
        return [c.title_path[-1] if c.title_path else c.text for c in chunks if c.kind == "faq"]

    def select(
        self,
        question: str,
        query_vector: Vectors,
        sections: list[tuple[str, float]],
    ) -> int | None:
        """The chunk index answering `question` among the passages of `sections` (name, score) and
        the FAQ passage whose question is very close, or, when none of them names the product asked
        about, among the passages that do."""
        cands, features = self.features(question, query_vector, sections)
        if not cands:
            return None
        w = self.weights
        weights = np.array([w.section, w.dense, w.bm25, w.faq_question, w.figure, w.named])
        return cands[int(np.argmax(features @ weights))]

    def features(
        self,
        question: str,
        query_vector: Vectors,
        sections: list[tuple[str, float]],
    ) -> tuple[list[int], np.ndarray]:
        """The candidate passages and one row per candidate: section prior, dense cosine and BM25
        (both scaled to the candidates' range), FAQ-question match, figure strength, named terms.

        A yes/no opener (「可以。」) counts only for a passage about the asked thing: 「在机场能办国际
        漫游吗」 is not answered by 「可以。租房用户用租赁合同…」 because both open with yes."""
        cands = [i for name, _ in sections for i in self._by_section.get(name, [])]
        topic = topic_terms(question)
        if topic and not any(self._names(i, topic) for i in cands):
            # The top sections never name the product asked about: they are about something else.
            cands = self._naming(topic, query_vector) or cands
        qtype = question_type(question)
        close = self._closest_faq(query_vector, cands, qtype)
        cands = cands + list(close)
        if not cands:
            return [], np.zeros((0, 6))
        top = max(sections[0][1], 1e-9) if sections else 1.0
        prior = {name: score / top for name, score in sections}
        qgrams, numbers = bigrams(question), asked_numbers(question)
        unit = asked_unit(question, qtype)
        terms = domain_terms_in(question)
        named = numbers | terms
        cos = self._passages[cands] @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        bm = np.asarray(self._keyword_scores(question, cands))
        faq_sim = self._faq_similarity(cands, query_vector)
        out = np.zeros((len(cands), 6))
        out[:, 1] = (cos - cos.min()) / (float(cos.max() - cos.min()) or 1.0)
        out[:, 2] = bm / (float(bm.max()) or 1.0)
        for j, i in enumerate(cands):
            chunk, body = self.chunks[i], self._bodies[i]
            out[j, 0] = close.get(i, prior.get(chunk.section, 0.0))
            if chunk.kind == "faq":
                shared = len(qgrams & self._title_grams[i]) / len(qgrams) if qgrams else 0.0
                out[j, 3] = max(faq_sim[j], shared)
            out[j, 4] = figure_strength(qtype, body, unit)
            if qtype == "procedure" and self._asks_otherwise(i, qtype):
                out[j, 4] *= OTHER_KIND_FIGURE
            about = self._leads_with(i, topic) if topic else out[j, 3] >= ABOUT_FAQ_MATCH
            if qtype == "yesno" and not (about and self._opener_agrees(i, question, faq_sim[j], terms)):
                out[j, 4] = 0.0
            out[j, 5] = named_share(self._lower_bodies[i], named) + number_with_unit(body, numbers, unit)
        if qtype == "yesno":
            # A yes or a no answers the FAQ question it follows: 「会。」 to 「断网了你们会通知吗」 is no
            # answer to 「断网耽误事了能赔吗」 when another passage's FAQ question is clearly closer.
            out[out[:, 3] < out[:, 3].max() - YESNO_FAQ_MARGIN, 4] = 0.0
        return cands, out

    def keeps_opener(self, i: int, question: str, query_vector: Vectors) -> bool:
        """Whether passage `i`'s opening yes or no may answer `question`: it answers the passage's own
        FAQ question, so that must ask about the same thing (a shared word beyond the product, or
        the same question in other words: cosine >= 0.90); when it cannot be told, the yes or no is
        dropped rather than guessed (「租赁光猫需要押金吗」 is not answered by 「需要。」 to
        「宽带拆机需要归还光猫吗」, cosine 0.85)."""
        if question_type(question) != "yesno":
            return True
        match = self._faq_similarity([i], query_vector)[0]
        return self._opener_agrees(i, question, match, domain_terms_in(question))

    def _opener_agrees(self, i: int, question: str, faq_match: float, terms: set[str]) -> bool:
        chunk = self.chunks[i]
        if chunk.kind != "faq" or not chunk.title_path or faq_match >= SAME_FAQ_QUESTION:
            return True
        return opener_agrees(question, chunk.title_path[-1], terms)

    def _closest_faq(self, query_vector: Vectors, cands: list[int], qtype: str | None) -> dict[int, float]:
        """The FAQ passage whose question is closest to the customer's, if that is very close, asks the
        same kind of thing and the top sections left it out, with its FAQ-question match as its
        section prior."""
        if not len(self._faq_vectors):
            return {}
        sims = self._faq_vectors @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        k = int(np.argmax(sims))
        i, cosine = self._faq_rows[k], float(sims[k])
        if i in cands or cosine < CLOSE_FAQ_COSINE or self._asks_otherwise(i, qtype):
            return {}
        return {i: (cosine - 0.6) / 0.4}

    def _asks_otherwise(self, i: int, qtype: str | None) -> bool:
        """The FAQ question of passage `i` asks another kind of thing than the customer's question
        (「打客服电话，多长时间内会有人接」 is a time limit; 「客服接电话要先确认身份吗」 a yes or no)."""
        faq_type = self._faq_types.get(i)
        return qtype is not None and faq_type is not None and faq_type != qtype

    def _naming(self, terms: set[str], query_vector: Vectors) -> list[int]:
        """The passages (not typical questions) naming one of `terms`, closest to the question first."""
        rows = [
            i
            for i, c in enumerate(self.chunks)
            if c.kind != "question" and c.section and self._names(i, terms)
        ]
        if not rows:
            return []
        cos = self._passages[rows] @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        return [rows[k] for k in np.argsort(-cos)[:TOPIC_PASSAGES]]

    def _leads_with(self, i: int, terms: set[str]) -> bool:
        """The yes or no is about one of `terms`: its FAQ question or its first two sentences name it
        (「不能。儿童手表卡只限…」 mentions 漫游日租包 later, but its no is about the watch card)."""
        lead = "".join(SENTENCE.split(self._lower_bodies[i])[:2])
        return any(t in lead or t in self._lower_titles[i] for t in terms)

    def _names(self, i: int, terms: set[str]) -> bool:
        """The passage or the FAQ question it answers names one of `terms`."""
        return any(t in self._lower_bodies[i] or t in self._lower_titles[i] for t in terms)

    def _faq_similarity(self, cands: list[int], query_vector: Vectors) -> list[float]:
        """Cosine of the question to the FAQ question each FAQ passage answers, rescaled from 0.6..1."""
        out = [0.0] * len(cands)
        rows = [(j, self._faq_row[i]) for j, i in enumerate(cands) if i in self._faq_row]
        if rows and len(self._faq_vectors):
            sims = self._faq_vectors[[r for _, r in rows]] @ query_vector.reshape(-1)
            for (j, _), s in zip(rows, sims, strict=True):
                out[j] = max(0.0, (float(s) - 0.6) / 0.4)
        return out
