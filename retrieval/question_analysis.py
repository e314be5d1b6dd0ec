"""What a customer's question asks for, and whether a text carries it.

The question's type (a time limit, materials, an amount, a yes/no …), the unit and numbers it names,
and how strongly a passage or a sentence carries the figure asked for. Shared by answer selection
(which passage answers) and the quote (which sentence leads); no model, no index.
"""

from __future__ import annotations

import re

# What the customer asks for, in the order it is tested (first match wins). A terse search-style
# query has no question word, so its head noun says what it wants: 「校园卡 月租」 asks an amount,
# 「携号转网 条件」 the conditions, 「流量包 生效」 a time.
QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Being compensated is what 「断网一个月应该怎么赔偿」 and 「服务中断多久可获赔偿」 ask, whatever the
    # question word: the passage saying 补偿 answers, not the fault's steps or time limit. Only a
    # question about it counts (「我要求赔偿」 is a demand); the customer paying (「光猫丢了要赔多少钱」)
    # is an amount.
    (
        "compensation",
        re.compile(
            r"(补偿|赔偿|赔钱|赔)(吗|不|呢|[？?])"
            r"|(怎么|如何|咋|能不能|可不可以|能否|多久|多长时间|有没有|会不会|可以|能|可获|申请|给不给).{0,6}(补偿|赔偿|赔)"
        ),
    ),
    # Where to look something up is a procedure even when it names an amount (「流量还剩多少，在哪看」).
    ("procedure", re.compile(r"(在|去)?哪(里|儿)?(可以|能)?(看|查)|怎么查|咋查")),
    ("frequency", re.compile(r"多久.{0,3}[一1][次回趟]|多长时间.{0,3}[一1][次回]|频率|频次|几次")),
    # How many levels or kinds (「应急事件分为几个等级」) is answered by a count: 「共分四级」, 「分为三类」.
    ("count", re.compile(r"几个?(等级|级别|级|类|种)|(多少|哪几)(个)?(等级|级别|级|类|种)|等级划分")),
    (
        "time",
        re.compile(
            r"多久|几天|多长时间|多少天|几个工作日|多快|什么时候|啥时候|何时|时限|时效|几小时|多少小时|多就|多少秒|几秒"
            r"|几分钟内|多少分钟内|生效|到账|(办理|处理|受理|办结|开通|恢复|答复|回复)时间"
        ),
    ),
    # What to tell (报修要说些啥, 报障要提供哪些信息) is answered by a list of details, not by papers.
    ("information", re.compile(r"(说|讲|告诉[你您]?们?)些?(什么|啥|哪些)|(什么|啥|哪些)信息")),
    (
        "materials",
        re.compile(
            r"带(什么|啥|哪些)|(需要|要|准备)(什么|啥|哪些)(材料|证件|东西)|材料|证件|要啥|要(什么|啥)$"
            r"|提供(什么|啥|哪些)"
        ),
    ),
    # 「会被限制吗」 asks whether it happens (a yes or no), not the conditions one must meet.
    ("conditions", re.compile(r"条件|(?<!被)限制|资格|前提|规则|门槛|谁能办|哪些人|(什么|哪些|啥)情况下")),
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
    "compensation": re.compile(r"补偿"),
    "frequency": re.compile(r"每(个|一)?(季度|年|半年|月|周|天)|至少.{0,4}[一1两2三3]次|\d+\s*次"),
    "count": re.compile(r"[共分为成]\s*[一二三四五六七八九两\d]+\s*(个)?(等级|级|类|种)"),
    "information": re.compile(r"姓名|联系电话|地址|账号|现象"),
    "time": re.compile(r"\d+\s*(小时|个工作日|工作日|天|分钟|秒)|次月1日|立即生效"),
    "materials": re.compile(r"身份证|证件|户口本|护照|证明|合同|学生证|授权码|申请表"),
    # A threshold (满150元后降速, 年满60周岁) is a condition too.
    "conditions": re.compile(
        r"实名|欠费|正常使用|满足|前提|年满|满\d|周岁|及以上|监护人|必须|要求|只限|不能"
    ),
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
        # Data beyond the plan is charged per GB: 「流量超了咋收」 wants 「5元/GB」, not a bundle's price.
        (r"超(了|出|过).{0,6}(咋|怎么|多少|几)|一个G|每G", r"\d+\s*元/GB"),
        # A monthly fee is a rate: 「副卡每月收费多少」 wants 「10元/月」, not the 99元 plan it is added to.
        (
            r"每月|每个月|月费|月租|一个月多少",
            r"\d+(\.\d+)?\s*元\s*/\s*月|月[费租]\s*\d+|每月\s*\d+(\.\d+)?\s*元",
        ),
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
FIGURE_TYPES = (
    "compensation",
    "frequency",
    "count",
    "time",
    "materials",
    "information",
    "conditions",
    "amount",
)

SENTENCE = re.compile(r"(?<=[。！？；])")
CITATION_TAIL = re.compile(r"依据[:：]《服务指南》.*$")


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
        return min(4.0, sum(w for term, w in MATERIAL_WEIGHTS.items() if term in text)) / 2.0
    if qtype == "information":
        # A list of details answers; one 地址 or 账号 in passing does not (three make a full answer).
        return min(3, len(set(FIGURES[qtype].findall(text)))) / 3.0
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
    return any(names_number(s, numbers) and unit.search(s) for s in SENTENCE.split(text))


# The words of a yes/no question that only say it is one (能不能, 需要…吗, 你们): what is left, less the
# product named, is what the yes or no is about (「租赁光猫需要押金吗」: 租赁, 押金).
YESNO_SCAFFOLD = re.compile(
    r"能不能|可不可以|是不是|要不要|会不会|有没有|可以|需要|能够|请问|你们|我们|[能会要吗呢吧么我你的了]|[\s\W_]+"
)


def asked_about(question: str, terms: set[str]) -> set[str]:
    """Bigrams of what a yes/no question asks about beyond the products it names (`terms`)."""
    text = question.lower()
    for term in sorted(terms, key=len, reverse=True):
        text = text.replace(term, "|")
    return {g for part in YESNO_SCAFFOLD.sub("|", text).split("|") for g in bigrams(part)}


def opener_agrees(question: str, faq_question: str, terms: set[str]) -> bool:
    """An FAQ answer's 「需要。」 answers its own FAQ question: it answers the customer's only when that
    asks about the same thing (「宽带拆机需要归还光猫吗」 says nothing of 「租赁光猫需要押金吗」)."""
    about = asked_about(question, terms)
    return not about or bool(about & bigrams(faq_question.lower()))


def bigrams(text: str) -> set[str]:
    text = re.sub(r"[\s\W_]+", "", text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def overlap(question: set[str], text: str) -> float:
    """Share of the question's character bigrams found in the text."""
    return len(question & bigrams(text)) / len(question) if question else 0.0
