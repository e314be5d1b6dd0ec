"""Plain-Python checks and parsing of what customers type into forms (tested without Rasa)."""

from __future__ import annotations

import re

from accounts.phone import normalize_contact_number

_DISTRICT_RE = re.compile(r"([\u4e00-\u9fa5]{1,8}?(?:新区|区|县|旗))")
CANCEL_WORDS = ("取消", "算了", "不办了", "不用了", "退出", "不要了")

FAULT_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("宽带断网", ("断网", "上不了网", "连不上", "没网", "宽带坏", "光猫", "断了")),
    ("网速慢", ("网速慢", "很慢", "卡", "慢")),
    ("手机无信号", ("没信号", "无信号", "信号差", "信号弱", "没有信号", "无服务")),
    ("无法通话", ("打不出", "打不通", "接不到", "无法通话", "不能打电话", "通话")),
    ("电视故障", ("电视", "iptv", "IPTV", "机顶盒")),
)


def extract_district(text: str) -> str | None:
    match = _DISTRICT_RE.search(text)
    return match.group(1) if match else None


def normalize_fault_type(text: str) -> str | None:
    """A known fault category, or the customer's own words when they are specific enough."""
    for label, words in FAULT_TYPES:
        if any(word in text for word in words):
            return label
    cleaned = text.strip()
    return cleaned if len(cleaned) >= 2 else None


def is_cancel(text: str) -> bool:
    return text.strip().rstrip("吧。!！") in CANCEL_WORDS


# A correction names the field and the new value: "电话改成139…", "地址写错了，是朝阳区…".
_FIELD_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("contact_phone", ("电话", "手机", "号码", "联系方式")),
    ("district", ("地址", "区", "地点", "位置")),
    ("preferred_time", ("时间", "上门", "预约")),
    ("fault_since", ("开始", "从什么时候")),
    ("fault_type", ("故障", "问题")),
    ("issue_detail", ("经过", "情况", "描述")),
    ("desired_remedy", ("诉求", "要求", "希望", "处理方式")),
    ("business_type", ("业务",)),
)
_VALUE_RE = re.compile(r"(?:改成|改为|换成|应该是|更正为|写错了[，,]?是|写错了[，,]?)\s*(.+)$")


def parse_correction(text: str, fields: tuple[str, ...]) -> dict[str, str]:
    """The fields a correction changes, with raw new values (validated by the form afterwards)."""
    result: dict[str, str] = {}
    value_match = _VALUE_RE.search(text)
    value = value_match.group(1).strip(" 。，,") if value_match else ""
    head = text[: value_match.start()] if value_match else text
    phone = normalize_contact_number(text)
    if phone and "contact_phone" in fields:
        result["contact_phone"] = phone
    for field, words in _FIELD_WORDS:
        if field in fields and field not in result and any(w in head for w in words) and value:
            result[field] = value
            break
    if not result and "district" in fields and extract_district(text) and value:
        result["district"] = value
    return result
