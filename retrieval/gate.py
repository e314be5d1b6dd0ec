"""The confidence gate: answer only when the question is close to what the KB covers (docs/kb_gate.md).

m3e cosines run high even off-topic (0.70-0.84 for 天气, 护照, 外卖), so a passage must be very close,
or the question close to a typical question of a section. A question naming a term of the telecom
dictionary (副卡, 报修, 营业厅 …) is in the domain whatever its wording, so for it a lower cosine
suffices: colloquial wording (「给老婆加个副卡咋办」) sits well below the formal one. A question naming
another organisation (银行, 快递, 12315 …: retrieval/out_of_domain.py) needs a closer typical question,
unless it also names one of our products or services (话费, 国际漫游; not 人工客服, which every
service desk has). All thresholds come from scripts/kb_gate_curve.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from retrieval.chunking import Chunk
from retrieval.keyword_index import KeywordIndex
from retrieval.out_of_domain import OutOfDomainTerms
from retrieval.settings import RetrievalSettings
from retrieval.tokenizer import DICT_DIR, normalize_query


@dataclass(frozen=True)
class GateScores:
    """What the gate compares: best cosine to a typical question, to a passage, whether the question
    names a telecom term, and the other organisations it names."""

    question_cos: float
    passage_cos: float
    domain: bool
    foreign: tuple[str, ...] = ()


# Dictionary words that are not telecom words: they help jieba, but 「身份证丢了去哪补办」 and
# 「外卖超时怎么投诉」 name them too, so they do not put a question in the domain.
EVERYDAY_TERMS = frozenset({"身份证", "户口本", "验证码", "投诉", "故障", "信号", "wifi", "5g", "4g"})

# Telecom dictionary words every other service desk uses too (a bank's 人工客服, a gym's 套餐, an
# account's 余额 or 注销): they do not make a question naming another organisation ours. Any other
# dictionary term does: 「能用支付宝交话费吗」 and 「在机场能办国际漫游吗」 are about our services.
SHARED_SERVICE_TERMS = frozenset(
    {
        "人工客服",
        "转人工",
        "营业厅",
        "工单",
        "工单号",
        "报修",
        "满意度",
        "余额",
        "注销",
        "销户",
        "退订",
        "违约金",
        "实名制",
        "实名认证",
        "套餐",
        "合约期",
    }
)


@lru_cache(maxsize=4)
def domain_terms(dict_dir: Path = DICT_DIR) -> tuple[str, ...]:
    """The telecom terms of the shared dictionary (the one jieba loads), lowercased."""
    terms: list[str] = []
    for path in sorted(dict_dir.glob("*.txt")) if dict_dir.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                term = line.split()[0].lower()
                if term not in EVERYDAY_TERMS:
                    terms.append(term)
    return tuple(terms)


def domain_terms_in(query: str) -> set[str]:
    text = normalize_query(query).lower()
    return {term for term in domain_terms() if term in text}


def names_domain_term(query: str) -> bool:
    return bool(domain_terms_in(query))


def gate_scores(
    query: str,
    dense: list[tuple[int, float]],
    chunks: list[Chunk],
    out_of_domain: OutOfDomainTerms | None = None,
) -> GateScores:
    question_cos = max((c for i, c in dense if chunks[i].kind == "question"), default=0.0)
    passage_cos = max((c for i, c in dense if chunks[i].kind != "question"), default=0.0)
    terms = domain_terms_in(query)
    ours = bool(terms - SHARED_SERVICE_TERMS)  # names one of our products or services
    foreign = out_of_domain.named_in(query) if out_of_domain is not None and not ours else ()
    return GateScores(question_cos, passage_cos, bool(terms), foreign)


def passes(
    scores: GateScores, settings: RetrievalSettings, has_questions: bool, bm25: KeywordIndex, query: str
) -> bool:
    """The decision. Without typical questions (an operator's own documents only) a passage that is
    close enough also needs keyword overlap."""
    s = settings
    if scores.foreign:
        return scores.question_cos >= s.foreign_threshold
    if scores.question_cos >= s.question_threshold or scores.passage_cos >= s.strong_threshold:
        return True
    if has_questions:
        return scores.domain and max(scores.question_cos, scores.passage_cos) >= s.domain_threshold
    sparse = bm25.search(normalize_query(query), 1)
    return scores.passage_cos >= s.threshold and bool(sparse) and sparse[0][1] >= s.bm25_min
