"""Turning a customer's tariff question into a catalogue query and a Chinese answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tariffs import format as fmt
from tariffs.catalogue import Catalogue, Offer

_MOBILE = ("mobile_5g", "mobile_4g")
_KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("宽带", ("broadband",)),
    ("融合", ("bundle",)),
    ("5G", ("mobile_5g",)),
    ("4G", ("mobile_4g",)),
    ("流量包", ("addon_data",)),
    ("加油包", ("addon_data",)),
    ("语音包", ("addon_voice",)),
    ("漫游", ("roaming",)),
)
_MIN_DATA_RE = re.compile(
    r"(\d+(?:\.\d+)?)\s*(?:G|GB|g|gb|个G)[^\d]{0,4}?(?:以上|起|及以上|多|够)|(?:至少|不少于|超过|大于|≥|>=)\s*(\d+(?:\.\d+)?)\s*(?:G|GB|g|gb|个G)"
)
_MAX_FEE_RE = re.compile(
    r"(\d+)\s*(?:元|块)(?:钱)?(?:以内|以下|之内)|(?:不超过|低于|少于|预算)\s*(\d+)\s*(?:元|块)?"
)


def _kinds(text: str) -> tuple[str, ...] | None:
    upper = text.upper()
    for word, kinds in _KIND_WORDS:
        if word.upper() in upper:
            return kinds
    return None


# A named product: some name, then 卡 / 套餐 / 流量包 / 权益 ... (「动感地带XX卡」「18元30G头条流量包」).
_NAMED_OFFER_RE = re.compile(
    r"([\u4e00-\u9fffA-Za-z0-9.]{2,16}?(?:流量包|定向包|加油包|权益包|会员包|权益|套餐|卡))"
)
_LEAD_WORDS_RE = re.compile(
    r"^.*?(?:请问一下|请问|问一下|问问|了解一下|了解|介绍一下|咨询一下|咨询|你们的|你们|那个|这个|想办|办理|办)"
    r"|^(?:[加开办买换订])?(?:一张|一个|张|个)"
)
_SUFFIX_RE = re.compile(r"(?:流量包|定向包|加油包|权益包|会员包|权益|套餐|卡)$")
# Stems that name a kind of offer, not a product: these questions are answered by the overview.
_GENERIC_STEMS = frozenset(
    (
        *("手机", "电话", "流量", "大流量", "上网", "副", "主", "新", "手机号", "号", "便宜", "优惠"),
        *("5G", "4G", "宽带", "融合", "漫游", "语音", "国际", "会员", "视频会员", "家庭", "全家"),
        *("资费", "电话手表", "物联网", "数据", "无限", "不限量", "保号"),
    )
)
_NOT_A_NAME_RE = re.compile(r"[的么吗呢个哪啥有是在么要买能可以我你]")
# Words that put the customer's own plan in the sentence (「流量超出套餐怎么收费」「升级套餐」「当前套餐」):
# the text before 套餐 then says what happens to that plan, it does not name a product we lack.
_OWN_PLAN_RE = re.compile(
    r"超出|超过|超了|用超|超额|以外|之外|用完|用光|不够|升级|降级|当前|现在|目前|原来|原有|更换|变更|剩余"
)
_FEE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:元|块)")
_DATA_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:G|GB|g|gb|个G)")


def unknown_offer_name(catalogue: Catalogue, text: str) -> str | None:
    """The product the customer names when the catalogue has nothing by that name, else None."""
    if catalogue.find_all(text):
        return None
    for match in _NAMED_OFFER_RE.finditer(text):
        name = _LEAD_WORDS_RE.sub("", match.group(1)) or match.group(1)
        stem = _SUFFIX_RE.sub("", name)
        if len(stem) < 2 or stem.upper() in _GENERIC_STEMS or _NOT_A_NAME_RE.search(stem):
            continue
        if _OWN_PLAN_RE.search(stem):
            continue
        if re.fullmatch(r"[\d.]+(?:元|块)?", stem) or any(stem in o.name for o in catalogue.offers):
            continue
        return name
    return None


def closest_offers(catalogue: Catalogue, text: str, name: str, limit: int = 3) -> list[Offer]:
    """Offers of the same sort as the unknown one, nearest in price and data (or sharing its words)."""
    if re.search(r"流量包|定向包|加油包", name):
        kinds: tuple[str, ...] = ("addon_data",)
    elif "宽带" in text:
        kinds = ("broadband", "bundle")
    else:
        kinds = _MOBILE
    pool = [o for o in catalogue.offers if o.kind in kinds]
    fee = _FEE_RE.search(text)
    data = _DATA_RE.search(text)

    def distance(o: Offer) -> float:
        d = 0.0
        if fee:
            want = float(fee.group(1))
            d += abs(o.monthly_fee - want) / max(want, 1.0)
        if data and o.data_gb is not None:
            want = float(data.group(1))
            d += abs(o.data_gb - want) / max(want, 1.0)
        shared = set(name) & set(o.name + "".join(o.aliases) + o.eligibility)
        return d - 0.1 * len(shared) + 0.001 * o.monthly_fee

    return sorted(pool, key=distance)[:limit]


def _listing(offers: list[Offer], limit: int = 6) -> str:
    return "\n".join(f"· {fmt.offer_line(o)}" for o in offers[:limit])


@dataclass(frozen=True)
class TariffAnswer:
    """The catalogue's reply; ``overview`` when it found nothing specific to say and listed the plans
    (「流量超了怎么收费」「副卡怎么收费」: the rule is in the service guide, not in an offer's row)."""

    text: str
    overview: bool = False


def answer_tariff_question(catalogue: Catalogue, text: str) -> str:
    return tariff_answer(catalogue, text).text


def tariff_answer(catalogue: Catalogue, text: str) -> TariffAnswer:
    """An offer we do not have (and the closest we do), compare, cheapest, filter by data or budget, one
    offer's details, or an overview."""
    answer = _specific_answer(catalogue, text)
    if answer is not None:
        return TariffAnswer(answer)
    kinds = _kinds(text)
    offers = catalogue.filter(kind=kinds) if kinds else catalogue.filter(kind=_MOBILE)
    return TariffAnswer(
        f"目前可办理的{'相关' if kinds else '手机'}套餐有：\n{_listing(offers, 8)}\n"
        "您可以告诉我想对比的两个套餐，或您每月需要的流量。",
        overview=True,
    )


def _specific_answer(catalogue: Catalogue, text: str) -> str | None:
    mentioned = catalogue.find_all(text)
    unknown = None if mentioned else unknown_offer_name(catalogue, text)
    if unknown:
        return (
            f"抱歉，我们的资费目录里没有「{unknown}」。和它最接近的有：\n"
            f"{_listing(closest_offers(catalogue, text, unknown))}\n想了解哪一款，告诉我名称即可。"
        )
    if len(mentioned) >= 2:
        return fmt.comparison(catalogue.compare(mentioned[0], mentioned[1]))
    kinds = _kinds(text)
    data_match = _MIN_DATA_RE.search(text)
    fee_match = _MAX_FEE_RE.search(text)
    if data_match or fee_match:
        min_data = float(data_match.group(1) or data_match.group(2)) if data_match else None
        max_fee = float(fee_match.group(1) or fee_match.group(2)) if fee_match else None
        offers = catalogue.filter(kind=kinds or _MOBILE, min_data_gb=min_data, max_fee=max_fee)
        conditions = []
        if min_data is not None:
            conditions.append(f"国内流量不少于{fmt.gb(min_data)}")
        if max_fee is not None:
            conditions.append(f"月费不超过{fmt.money(max_fee)}元")
        if not offers:
            return f"抱歉，目前没有{'、'.join(conditions)}的套餐。"
        return f"{'、'.join(conditions)}的套餐有（按价格从低到高）：\n{_listing(offers)}"
    if re.search(r"最便宜|最低|最实惠|最省钱|便宜点", text):
        offer = catalogue.cheapest(kinds or _MOBILE)
        if offer is None:
            return "抱歉，目前没有这类套餐。"
        return f"最便宜的是{fmt.offer_detail(offer)}"
    if mentioned:
        return fmt.offer_detail(mentioned[0])
    return None
