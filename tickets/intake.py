"""Reading what customers type into the ticket forms: district, address, fault type and corrections."""

from __future__ import annotations

import re

from accounts.phone import normalize_contact_number
from tickets.rules import DEFAULT_RULES, Category

# The operator's own districts first: "朝阳" in 「我家在朝阳区」 must not become 「我家在朝阳区」.
KNOWN_DISTRICTS = (
    "东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "门头沟区", "房山区",
    "通州区", "顺义区", "昌平区", "大兴区", "怀柔区", "平谷区", "密云区", "延庆区",
)  # fmt: skip
# Elsewhere: two to four characters before 区/县/旗, not starting with the customer's lead-in
# words (我家在…, 地址是…, 北京市…) and not a generic place word (小区, 社区, 园区…).
_DISTRICT_AT = re.compile(r"[\u4e00-\u9fa5]{2,4}?(?:新区|区|县|旗)")
_LEAD_IN_CHARS = set("我家在住是的址于市省")
_GENERIC_AREAS = ("小区", "社区", "园区", "校区", "景区", "城区", "片区", "市区", "郊区", "山区", "街区",
                  "厂区", "服务区", "开发区", "营业区", "管区", "地区", "辖区", "老区", "新区")  # fmt: skip
_LEAD_IN_RE = re.compile(r"^(?:我家|家里|家|我|住址|地址|位置|在|住在|是|就是|位于|[:：，,\s])*")
# After the district: parts that end like address parts (路, 街, 1号院, 3号楼, 502室…).
_ADDRESS_PART_RE = re.compile(
    r"(?:[\u4e00-\u9fa5A-Za-z0-9\-]{1,12}?(?:大街|路|街|道|巷|胡同|里|村|镇|乡|小区|花园|家园|公寓|"
    r"大厦|广场|苑|园区|园|院|号楼|楼|栋|幢|座|单元|号|室|层))+(?:[0-9A-Za-z\-]{1,6}(?:室|号)?)?"
)


def extract_district(text: str) -> str | None:
    """The district named in a message (海淀区, 浦东新区…), or None."""
    known = [(text.find(d), d) for d in KNOWN_DISTRICTS if d in text]
    if known:
        return min(known)[1]
    for start in range(len(text)):
        if text[start] in _LEAD_IN_CHARS:
            continue
        match = _DISTRICT_AT.match(text, start)
        if not match or any(c in "市省" for c in match.group()[:-1]):
            continue
        if not any(match.group().endswith(g) and len(match.group()) <= len(g) + 1 for g in _GENERIC_AREAS):
            return match.group()
    return None


def extract_address(text: str, district: str) -> str:
    """The address in a message that names ``district``: the district and the street parts after it.

    「我在海淀区中关村大街1号院3号楼502，宽带断了」 gives 「海淀区中关村大街1号院3号楼502」; with no
    street parts it is just the district, so the rest of the sentence never leaks into the address.
    """
    start = text.find(district)
    if start < 0:
        return district
    rest = text[start + len(district) :]
    parts = _ADDRESS_PART_RE.match(rest)
    return district + (parts.group() if parts else "")


def address_answer(text: str) -> str:
    """A whole answer to 「地址是？」 without its lead-in words and trailing punctuation."""
    return _LEAD_IN_RE.sub("", text.strip()).strip(" 。.！!")[:80]


def address_for(
    district: str, *, value: str, message: str, asked: str, previous: str, fields: tuple[str, ...]
) -> str:
    """The address to keep once ``district`` is known from ``value`` (the slot value; ``message`` is the
    customer's whole message, ``asked`` the slot the form asked for, ``previous`` the address so far)."""
    # The NLU hands over just the district entity (「海淀区」); the street is in the message.
    from_entity = len(value) <= len(district) and district in message
    if not from_entity or asked == "district":
        # The whole answer to 「地址是？」 (or a correction's new value) is the address.
        address = address_answer(message if from_entity else value)
    elif asked == "form_confirmed" and district in (
        correction := parse_correction(message, fields).get("district", "")
    ):
        address = address_answer(correction)  # 「地址改成…」 at the confirmation step
    else:
        address = extract_address(message, district)  # mentioned in passing: the street parts only
    if address == district and previous.startswith(district):
        address = previous  # a later bare mention of the district keeps the detail given before
    return address


def known_fault_type(text: str) -> str | None:
    """The fault type a message names, as its label (「家里宽带断了」 -> 宽带断网), or None.

    The words are the fault rows of the ticket rules table, so the form yields the same type the
    ticket gets: 「光猫红灯了」 is 光猫指示灯异常, 「手机卡没信号」 is 手机无信号 (the longest word wins).
    """
    row = DEFAULT_RULES.match_type(Category.FAULT, text)
    return row.label if row else None


def normalize_fault_type(text: str) -> str | None:
    """A known fault category, or the customer's own words when they are specific enough."""
    label = known_fault_type(text)
    if label is not None:
        return label
    cleaned = text.strip()
    return cleaned if len(cleaned) >= 2 else None


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


def free_text_answer(value: object, shortest: int = 1) -> str | None:
    """A free-text answer, stripped, or None when it is shorter than ``shortest`` characters."""
    text = str(value or "").strip()
    return text if len(text) >= shortest else None
