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

# What the customer asks for, in the order it is tested (first match wins). A terse search-style
# query has no question word, so its head noun says what it wants: 「校园卡 月租」 asks an amount,
# 「携号转网 条件」 the conditions, 「流量包 生效」 a time.
QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Where to look something up is a procedure even when it names an amount (「流量还剩多少，在哪看」).
    ("procedure", re.compile(r"(在|去)?哪(里|儿)?(可以|能)?(看|查)|怎么查|咋查")),
    ("frequency", re.compile(r"多久.{0,3}[一1][次回趟]|多长时间.{0,3}[一1][次回]|频率|频次|几次")),
    (
        "time",
        re.compile(
            r"多久|几天|多长时间|多少天|几个工作日|多快|什么时候|啥时候|何时|时限|时效|几小时|多少小时|多就|多少秒|几秒"
            r"|几分钟内|多少分钟内|生效|到账"
        ),
    ),
    (
        "materials",
        re.compile(
            r"带(什么|啥|哪些)|(需要|要|准备)(什么|啥|哪些)(材料|证件|东西|信息)|材料|证件|要啥|说些啥|要(什么|啥)$"
            r"|提供(什么|啥|哪些)"
        ),
    ),
    ("conditions", re.compile(r"条件|限制|资格|前提|规则|门槛|谁能办|哪些人")),
    (
        "amount",
        re.compile(
            r"多少钱|几块|怎么收费|咋收|收费|费用|月费|月租|资费|价格|多少GB|多少流量|几张|几个副卡|几分钟|几岁|年纪"
            r"|什么价|百分之|率|多少|套餐\s*流量$"
        ),
    ),
    (
        "yesno",
        re.compile(r"能不能|可不可以|可以吗|能吗|行不行|会不会|是不是|要不要|算不算|吗[？?]?$|不[？?]?$"),
    ),
    ("procedure", re.compile(r"怎么|咋|如何|流程|步骤|怎样|哪些渠道|在哪|手续")),
)

# What a passage must carry to answer each type.
FIGURES: dict[str, re.Pattern[str]] = {
    "frequency": re.compile(r"每(个|一)?(季度|年|半年|月|周|天)|至少.{0,4}[一1两2三3]次|\d+\s*次"),
    "time": re.compile(r"\d+\s*(小时|个工作日|工作日|天|分钟|秒)|次月1日|立即生效"),
    "materials": re.compile(r"身份证|证件|户口本|护照|证明|合同|学生证|授权码|申请表"),
    "conditions": re.compile(r"实名|欠费|正常使用|满足|前提|年满|周岁|及以上|监护人|必须|要求|只限|不能"),
    "amount": re.compile(r"\d+(\.\d+)?\s*(元|%|GB|张|周岁|Mbps)"),
    "yesno": re.compile(r"^(可以|不能|不用|不会|会|需要|不需要|不是|能|有)[。，,！]"),
    "procedure": re.compile(r"第一步|首先|步骤|先|然后|再|APP|网上营业厅|客服热线|营业厅"),
}


# The unit asked for (first match wins), for an amount and for a time: 「多少流量」 wants GB, not
# 「5元/GB」; 「多少秒接通」 wants the seconds, not the 24-hour reply to a message.
def _units(*pairs: tuple[str, str]) -> tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]:
    return tuple((re.compile(q), re.compile(p)) for q, p in pairs)


ASKED_UNITS: dict[str, tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]] = {
    "amount": _units(
        (r"多少钱|几块|收费|咋收|怎么收|月费|月租|费用|什么价|资费|价格", r"\d+(\.\d+)?\s*元"),
        (r"几分钟|多少分钟|通话", r"\d+\s*分钟"),
        (r"流量|多少GB|几个G", r"\d+\s*GB"),
        (r"几张|几个副卡", r"\d+\s*张"),
        (r"几岁|年纪|多少岁", r"\d+\s*周岁"),
        (r"百分之|率", r"\d+\s*%"),
    ),
    "time": _units(
        (r"多少秒|几秒|多快.{0,4}接|接通|接听", r"\d+\s*秒"),
        (r"几分钟|多少分钟", r"\d+\s*分钟"),
        (r"几小时|多少小时|几个小时", r"\d+\s*小时"),
        # Done (办完, 办结) is the completion limit in working days (5.1.3), not the 24-hour acceptance.
        (r"办完|办好|办结", r"\d+\s*个?工作日"),
        (r"几天|多少天|工作日", r"\d+\s*(个)?(工作日|天)"),
        (r"生效", r"生效|次月1日"),
    ),
}

# How specific a material is: the ID card is what every counter asks for first; a contract or a form
# is mentioned by passages about something else (电子合同, 无纸化) just as often.
MATERIAL_WEIGHTS: dict[str, float] = {
    "身份证": 2.0,
    "户口本": 1.0,
    "护照": 1.0,
    "学生证": 1.0,
    "授权码": 1.0,
    "证明": 1.0,
    "证件": 1.0,
    "合同": 0.3,
    "申请表": 0.3,
}

# A figure in another unit than the one asked for (「24小时」 for 「多少秒」) answers another question.
OTHER_UNIT_CREDIT = 0.3

# The types whose answer is a figure or a list: the quote leads with the sentence carrying it.
FIGURE_TYPES = ("frequency", "time", "materials", "conditions", "amount")

_SENTENCE = re.compile(r"(?<=[。！？；])")
_CITATION_TAIL = re.compile(r"依据[:：]《服务指南》.*$")


def question_type(question: str) -> str | None:
    for name, pattern in QUESTION_TYPES:
        if pattern.search(question):
            return name
    return None


_CN_DIGITS = {ch: d for d, ch in enumerate("零一二三四五六七八九")} | {"两": 2}
_CN_NUMBER = re.compile(r"[零一二两三四五六七八九十百]{2,}")
_NUMBER = re.compile(r"(?<![\d.])\d{2,4}(?![\d.])")


def _cn_to_int(text: str) -> int:
    """一百二十九 -> 129, 五十九 -> 59, 十九 -> 19 (the plan prices customers say aloud)."""
    total, digit = 0, 0
    for ch in text:
        if ch == "百":
            total += (digit or 1) * 100
            digit = 0
        elif ch == "十":
            total += (digit or 1) * 10
            digit = 0
        else:
            digit = digit * 10 + _CN_DIGITS[ch]
    return total + digit


def asked_numbers(question: str) -> set[str]:
    """Numbers of two or more digits named in the question (a plan price, a speed): 59, 一百二十九."""
    found = set(_NUMBER.findall(question))
    found |= {str(_cn_to_int(m)) for m in _CN_NUMBER.findall(question)}
    return {n for n in found if len(n) >= 2}


def names_number(text: str, numbers: set[str]) -> bool:
    return any(re.search(rf"(?<![\d.]){n}(?![\d.])", text) for n in numbers)


def asked_unit(question: str, qtype: str | None) -> re.Pattern[str] | None:
    """The unit an amount or a time question asks for, if it names one."""
    return next((unit for q, unit in ASKED_UNITS.get(qtype or "", ()) if q.search(question)), None)


def figure_strength(qtype: str | None, text: str, unit: re.Pattern[str] | None = None) -> float:
    """How well `text` carries what the question type asks for (0 = not at all); for an amount or a
    time with a unit asked for (GB, 元, 秒…) a figure in another unit counts a third."""
    if qtype is None or not FIGURES[qtype].search(text):
        return 0.0
    if qtype == "materials":
        return min(3.0, sum(w for term, w in MATERIAL_WEIGHTS.items() if term in text)) / 2.0
    if unit is not None and not unit.search(text):
        return OTHER_UNIT_CREDIT
    return 1.0


def named_share(text: str, named: set[str]) -> float:
    """Share of the numbers and dictionary terms the question names (59, 全家享, 副卡) found in `text`."""
    return sum(1 for term in named if term in text) / len(named) if named else 0.0


def number_with_unit(text: str, numbers: set[str], unit: re.Pattern[str] | None) -> bool:
    """A sentence names the asked number and the asked unit: 「5G畅享59元套餐含30GB流量」."""
    if not numbers or unit is None:
        return False
    return any(names_number(s, numbers) and unit.search(s) for s in _SENTENCE.split(text))


def bigrams(text: str) -> set[str]:
    text = re.sub(r"[\s\W_]+", "", text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def overlap(question: set[str], text: str) -> float:
    """Share of the question's character bigrams found in the text."""
    return len(question & bigrams(text)) / len(question) if question else 0.0


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
        self._bodies = [_CITATION_TAIL.sub("", c.text) for c in chunks]
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
    text = _CITATION_TAIL.sub("", re.sub(r"\s+", "", text))
    sentences = [s for s in _SENTENCE.split(text) if s]
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
