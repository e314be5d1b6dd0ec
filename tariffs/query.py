"""Turning a customer's tariff question into a catalogue query and a Chinese answer."""

from __future__ import annotations

import re

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


def _listing(offers: list[Offer], limit: int = 6) -> str:
    return "\n".join(f"· {fmt.offer_line(o)}" for o in offers[:limit])


def answer_tariff_question(catalogue: Catalogue, text: str) -> str:
    """Compare, cheapest, filter by data or budget, one offer's details, or an overview."""
    mentioned = catalogue.find_all(text)
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
    offers = catalogue.filter(kind=kinds) if kinds else catalogue.filter(kind=_MOBILE)
    return f"目前可办理的{'相关' if kinds else '手机'}套餐有：\n{_listing(offers, 8)}\n您可以告诉我想对比的两个套餐，或您每月需要的流量。"  # noqa: E501
