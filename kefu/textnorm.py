"""One text normaliser for customer messages: NLU, the forms' slot extraction and retrieval queries.

Real messages arrive in traditional characters, with full-width digits, Weibo furniture (hashtags,
@mentions, emoji, "分享图片", location tags, "(1/2)" post markers), from phone transcripts fillers
and stutters, and from pinyin input homophone slips (宽代 for 宽带: kefu.typos). Everything
downstream (Jieba, the n-gram features, the entity regexes, the fault/complaint keyword tables) is
written for plain simplified text, so each reader normalises with this one function instead of
growing its own variants.

Pure Python + OpenCC; imported by the Rasa venv (Python 3.10) and the app venv (3.11), so no
3.11-only syntax and nothing heavy at import (the OpenCC converter is built on first use).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from kefu.typos import mend_typos

__all__ = ["normalize", "to_simplified"]

# Full-width ASCII block (！..～) -> half-width, for digits, Latin letters and the few symbols the
# marker rules below look for. Chinese punctuation (，。：) is left alone: Jieba and the
# training data use it as written.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
for _keep in "，：；？！（）":
    _FULLWIDTH.pop(ord(_keep), None)
_FULLWIDTH[0x3000] = 0x20  # ideographic space

# Taiwanese telecom words OpenCC's t2s leaves as they are (its tw2sp phrase table would fix them but
# also turns mainland words into others: 查询 -> 查找, 程序 -> 进程, 么 -> 幺). Applied after t2s, so
# the keys are simplified; longer keys first.
_TAIWAN_WORDS = {
    "行动电话": "手机",
    "资费方案": "套餐",
    "客服专线": "客服热线",
    "加值服务": "增值业务",
    "光世代": "光纤宽带",
    "吃到饱": "不限量",
    "传输量": "流量",
    "基地台": "基站",
    "简讯": "短信",
    "讯号": "信号",
    "网路": "网络",
    "宽频": "宽带",
    "门号": "号码",
    "携码": "携号转网",
    "市话": "固话",
    "储值": "充值",
    "绑约": "合约",
    "停话": "停机",
    "门市": "营业厅",
    "申办": "办理",
}
_TAIWAN_WORD = re.compile("|".join(sorted(_TAIWAN_WORDS, key=len, reverse=True)))
_URL = re.compile(r"https?://[^\s\u4e00-\u9fff，。]+")
_HASHTAG = re.compile(r"#[^#\n]{1,40}#")
# A Weibo @mention ends at whitespace or punctuation; without such an end only an ASCII handle is cut
# (a Chinese nickname glued to the text cannot be told from the message).
_MENTION = re.compile(r"@[\w\-\u4e00-\u9fff·]{1,30}(?=[\s:：,，。!！?？)）]|$)|@[A-Za-z0-9_\-]{1,30}")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b00-\u2bff\ufe0f\u200d\u20e3]"
)
_BRACKET_EMOTICON = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,5}\]")  # Weibo's [怒] [哈哈] [doge]
_SHARE_PICTURE = re.compile(r"[（(]?分享(?:图片|视频|链接)[)）]?")
_LOCATION_TAG = re.compile(r"\s*我在(?:这里)?[:：].*$")
_POST_MARKER = re.compile(r"[（(]\s*\d{1,2}\s*/\s*\d{1,2}\s*[)）]")
# Fillers: cut at the start of the text or of a clause, and anywhere they stand alone between
# punctuation/spaces. "那个"/"就是" are real words mid-sentence ("那个套餐"), so only their leading
# or repeated use is cut.
_CLAUSE_START = r"(?:^|(?<=[\s，。,.!！?？：:；;]))"
_LEADING_FILLER = re.compile(_CLAUSE_START + r"(?:(?:嗯+|啊+|唉+|哎+|呃+|额+|那个|就是)[\s，,。.…~～]*)+")
_LONE_FILLER = re.compile(r"(?<=[\s，,。.])(?:嗯+|啊+|唉+|呃+)(?=[\s，,。.])")
_REPEATED_WORD = re.compile(r"(那个|就是|这个|然后|我想|请问)(?:\1)+")
_REPEATED_PRONOUN = re.compile(r"([我你他她它])\1+(?![们])")
# Numeral stutter: 五五十块 -> 五十块, 一一百 -> 一百 (a digit said twice before a unit).
_NUMERAL_STUTTER = re.compile(r"([一二两三四五六七八九])\1(?=[十百千万块元])")
# Numbers read out digit by digit, as phone transcripts spell them (一三九一二三四五六七八, 幺零零八六,
# 二零二四年): at least four digit characters, spaces between groups allowed, with three different
# digits or seven characters or more (so 七七八八 and 一五一十 stay words), not followed by a unit
# (四五十块 is a number of another kind).
_DIGIT_CHARS = "零〇幺一二三四五六七八九"
_SPOKEN_DIGITS = re.compile(rf"[{_DIGIT_CHARS}](?: ?[{_DIGIT_CHARS}]){{3,}}(?![十百千万亿])")
_DIGIT_VALUES = str.maketrans(_DIGIT_CHARS, "001123456789")
_SPACES = re.compile(r"[ \t]{2,}")
# What a filler leaves behind when the whole message was an interjection: 嗯呢 (yes), 嗯哼, 啊哈.
_ONLY_PARTICLES = re.compile(r"[呢哼吧呀嘛哦啦哈]*")
_EDGE_PUNCT = " ，,、：:"


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def _spoken_digits(match: re.Match[str]) -> str:
    run = match.group(0).replace(" ", "")
    if len(set(run)) < 3 and len(run) < 7:
        return match.group(0)
    return run.translate(_DIGIT_VALUES)


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese (OpenCC t2s); simplified text passes unchanged."""
    return str(_converter().convert(text))


def normalize(text: str) -> str:
    """The customer's text as the NLU and the forms read it; the meaning is kept, the noise goes."""
    if not text:
        return text
    out = unicodedata.normalize("NFC", text).translate(_FULLWIDTH)
    out = to_simplified(out)
    out = _TAIWAN_WORD.sub(lambda m: _TAIWAN_WORDS[m.group(0)], out)
    out = mend_typos(out)
    out = _URL.sub(" ", out)
    out = _LOCATION_TAG.sub("", out)
    out = _HASHTAG.sub(" ", out)
    out = _MENTION.sub(" ", out)
    out = _SHARE_PICTURE.sub(" ", out)
    out = _POST_MARKER.sub(" ", out)
    out = _EMOJI.sub("", out)
    out = _BRACKET_EMOTICON.sub("", out)
    out = _REPEATED_WORD.sub(r"\1", out)
    out = _REPEATED_PRONOUN.sub(r"\1", out)
    out = _NUMERAL_STUTTER.sub(r"\1", out)
    out = _SPOKEN_DIGITS.sub(_spoken_digits, out)
    out = _SPACES.sub(" ", out).strip(_EDGE_PUNCT)
    before_fillers = out
    out = _LEADING_FILLER.sub("", out)
    out = _LONE_FILLER.sub("", out)
    out = _SPACES.sub(" ", out).strip(_EDGE_PUNCT)
    # A message that was nothing but noise (an emoji, a filler) keeps its original text rather than
    # becoming empty: "嗯" alone is an answer the dialogue has to see, and so is "嗯呢" (not "呢").
    if _ONLY_PARTICLES.fullmatch(out):
        return before_fillers or text.strip()
    return out
