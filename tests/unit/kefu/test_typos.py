"""Homophone slips are mended before the NLU, the forms and the knowledge base read a message;
correct wording is left alone."""

from __future__ import annotations

import pytest

from kefu.typos import TYPOS, mend_typos
from retrieval.knowledge_base import KnowledgeBase
from retrieval.settings import REPO_ROOT
from retrieval.tokenizer import clean_query


def test_each_slip_in_the_table_is_mended_in_its_own_example() -> None:
    for typo in TYPOS:
        mended = mend_typos(typo.example)
        assert mended != typo.example and typo.meant in mended, typo.example


def test_traditional_characters_are_simplified_before_slips_are_mended() -> None:
    assert clean_query("套參變更啥時候生小") == "套餐变更啥时候生效"
    assert clean_query("頭訴多久有結過") == "投诉多久有结果"


def test_words_that_only_look_like_slips_keep_their_meaning() -> None:
    kept = [
        "帮我爸代办个新号行不行",  # 代办 is a word: handling it for someone else
        "手机还在保修期吗",  # 保修 is a warranty, not 报修
        "上个月已经结过账了",  # settled the bill, not 结果
        "流量用得多就会超出套餐",  # 多就 here is "the more ... the more", not 多久
        "想等生小孩以后再换套餐",
    ]
    assert [mend_typos(text) for text in kept] == kept


def test_no_slip_in_the_table_rewrites_the_guide_or_the_faq() -> None:
    """The guide's and the FAQ's own wording is correct: a pattern that changes it could change a
    correct question's meaning too."""
    docs = sorted((REPO_ROOT / "knowledge_base").glob("guide/*.md")) + sorted(
        (REPO_ROOT / "knowledge_base").glob("faq/*.md")
    )
    assert docs
    for doc in docs:
        for line in doc.read_text(encoding="utf-8").splitlines():
            assert mend_typos(line) == line, (doc.name, line)


@pytest.mark.parametrize(
    ("question", "fact", "section"),
    [
        ("开户要代啥证件", "身份证", "1.3"),
        ("头诉完几天能有结过", "24小时", "3.3.4"),
        ("改了套参什么时候生小", "次月1日", "2.4.1"),
    ],
)
def test_a_misspelt_question_is_answered_as_the_correct_one(
    real_kb: KnowledgeBase, question: str, fact: str, section: str
) -> None:
    ans = real_kb.answer(question)
    assert ans is not None, question
    assert fact in ans.text, ans.text
    assert ans.citations[0]["section"] == section
