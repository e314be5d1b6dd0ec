"""Homophone misspellings customers type, mended by kefu.textnorm.normalize for every reader.

Pinyin input puts a same-sounding character in place of the meant one (宽代 for 宽带, 头诉 for
投诉, 生小 for 生效). A misspelt key word hides the message's intent from the NLU, its detail from a
form's slot extraction, and costs a knowledge-base question its BM25 match, its embedding's
closeness to the FAQ it asks and its type (要代啥 asks for materials only as 要带啥). Each entry
rewrites a slip only where the misspelt form is not itself a word a correct question could mean:
代办 and 保修 are real words and stay; 结过 is mended only where 结果 is meant (not 结过账);
多就 only after 要/等/后 (not 用得多就).
The unit tests check that no entry rewrites any sentence of the guide or the FAQ.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Typo(NamedTuple):
    """A misspelling as a pattern, the intended wording, and a customer's example."""

    pattern: re.Pattern[str]
    meant: str
    example: str


def _typo(pattern: str, meant: str, example: str) -> Typo:
    return Typo(re.compile(pattern), meant, example)


# The one table. Patterns read simplified text (normalize converts traditional characters first).
TYPOS: tuple[Typo, ...] = (
    _typo(r"宽代", "宽带", "宽代移机要几天"),
    _typo(r"头诉|投述", "投诉", "头诉多久有结果"),
    _typo(r"(?<=[有出个的啥没])结过(?![账帐婚])", "结果", "投诉多久有结过"),
    _typo(r"(?<=[候才就会即始上])生小(?![孩宝])|生小(?=[吗呢了?？]|$)|升效", "生效", "套餐变更啥时候生小"),
    _typo(r"套参", "套餐", "套参变更什么时候生效"),
    _typo(r"(?<=[要得需该])代(?=啥|什么|哪些|些)", "带", "办新号要代啥"),
    _typo(r"证见", "证件", "办卡要带什么证见"),
    _typo(r"(?<=[要等后])多就", "多久", "报修后多就能修好"),
    _typo(r"报休", "报修", "报休以后几天上门"),
    _typo(r"违约今", "违约金", "宽带违约今怎么算"),
    _typo(r"光毛", "光猫", "光毛亮红灯"),
    _typo(r"人宫", "人工", "怎么转人宫客服"),
    _typo(r"身分证", "身份证", "身分证过期了能办卡吗"),
    _typo(r"营业听", "营业厅", "营业听几点关门"),
    _typo(r"携号专网", "携号转网", "携号专网要多久"),
    _typo(r"补尝", "补偿", "断网有补尝吗"),
)


def mend_typos(text: str) -> str:
    """The text with each listed misspelling replaced by the wording the customer meant."""
    for typo in TYPOS:
        text = typo.pattern.sub(typo.meant, text)
    return text
