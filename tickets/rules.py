# ruff: noqa: E501
# (one table row per line keeps the tables readable)
"""The service guide's ticket standards as readable tables: deadlines, ticket types, labels.

Everything that decides *how fast* and *who* lives here, each row naming the guide section it
comes from, so a change in the standards is a change in one table.

Severity follows the guide's emergency levels (7.1): 一级（重大）→ I, 二级（较大）→ II,
三级（一般）→ III, 四级（轻微）→ IV.  Urgent problems (I, II) are followed up within 24 h and
general ones (III, IV) within 48 h (3.4.2); customers get a response within 24 h (5.2.1);
business acceptance takes 24 h for general and 48 h for complex requests (1.4) and is done within
3 working days for important and 5 for general business (5.1.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    FAULT = "fault"
    COMPLAINT = "complaint"
    BUSINESS = "business"
    INQUIRY = "inquiry"


class Severity(StrEnum):
    I = "I"  # noqa: E741 - the guide's level names
    II = "II"
    III = "III"
    IV = "IV"


class Department(StrEnum):
    NETWORK_OPS = "network_ops"
    FIELD_SERVICE = "field_service"
    BILLING = "billing"
    BUSINESS_HALL = "business_hall"
    CUSTOMER_SERVICE = "customer_service"


class Unit(StrEnum):
    HOURS = "hours"  # wall clock: networks are repaired around the clock
    WORKING_DAYS = "working_days"  # business calendar with public holidays


@dataclass(frozen=True)
class Target:
    amount: float
    unit: Unit

    def describe(self) -> str:
        if self.unit is Unit.HOURS:
            return f"{self.amount:g}小时"
        return f"{self.amount:g}个工作日"


@dataclass(frozen=True)
class DeadlineRule:
    category: Category
    severity: Severity
    first_response: Target
    resolution: Target
    source: str


H = Unit.HOURS
WD = Unit.WORKING_DAYS
C, S = Category, Severity

# (category, severity) → first response and resolution targets, with the guide section.
DEADLINE_RULES: tuple[DeadlineRule, ...] = (
    # Faults: urgent (I, II) handled within 24 h, general (III, IV) within 48 h (3.4.2);
    # a major outage gets its first response at emergency pace (7.1), others within 24 h (5.2.1).
    DeadlineRule(C.FAULT, S.I, Target(0.25, H), Target(24, H), "7.1, 3.4.2"),
    DeadlineRule(C.FAULT, S.II, Target(2, H), Target(24, H), "7.1, 3.4.2"),
    DeadlineRule(C.FAULT, S.III, Target(24, H), Target(48, H), "5.2.1, 3.4.2"),
    DeadlineRule(C.FAULT, S.IV, Target(24, H), Target(48, H), "5.2.1, 3.4.2"),
    # Complaints: response within 24 h, resolution within 48 h (5.2.1); urgent ones within 24 h (3.4.2).
    DeadlineRule(C.COMPLAINT, S.I, Target(2, H), Target(24, H), "7.1, 3.4.2"),
    DeadlineRule(C.COMPLAINT, S.II, Target(24, H), Target(24, H), "5.2.1, 3.4.2"),
    DeadlineRule(C.COMPLAINT, S.III, Target(24, H), Target(48, H), "5.2.1"),
    DeadlineRule(C.COMPLAINT, S.IV, Target(24, H), Target(48, H), "5.2.1"),
    # Business: acceptance 24 h general / 48 h complex (1.4); done within 3 working days for
    # important (I, II: complex requests such as porting or installation) and 5 for general (5.1.3).
    DeadlineRule(C.BUSINESS, S.I, Target(24, H), Target(3, WD), "1.4, 5.1.3"),
    DeadlineRule(C.BUSINESS, S.II, Target(48, H), Target(3, WD), "1.4, 5.1.3"),
    DeadlineRule(C.BUSINESS, S.III, Target(24, H), Target(5, WD), "1.4, 5.1.3"),
    DeadlineRule(C.BUSINESS, S.IV, Target(24, H), Target(5, WD), "1.4, 5.1.3"),
    # Inquiries: general acceptance within 24 h, complex within 48 h (1.4); response within 24 h (5.2.1).
    DeadlineRule(C.INQUIRY, S.I, Target(24, H), Target(24, H), "1.4, 5.2.1"),
    DeadlineRule(C.INQUIRY, S.II, Target(24, H), Target(48, H), "1.4, 5.2.1"),
    DeadlineRule(C.INQUIRY, S.III, Target(24, H), Target(24, H), "1.4, 5.2.1"),
    DeadlineRule(C.INQUIRY, S.IV, Target(24, H), Target(24, H), "1.4, 5.2.1"),
)
# Customer feedback after an emergency is answered within 24 h (7.4): the follow-up of a
# reopened ticket uses the urgent fault target.
REOPEN_RESOLUTION = Target(24, H)


@dataclass(frozen=True)
class TicketType:
    code: str
    category: Category
    label: str
    department: Department
    severity: Severity
    aliases: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()  # what the customer brings (guide 1.3 / 5.1.2)


D = Department
_ID = "机主本人有效身份证件原件"
TICKET_TYPES: tuple[TicketType, ...] = (
    # Faults (3.1.2 技术类问题; dispatched to network operations or field service, 3.2.2). The aliases
    # are also how the fault form recognises the customer's words (tickets.intake.known_fault_type).
    TicketType("no_signal", C.FAULT, "手机无信号", D.NETWORK_OPS, S.III, ("无信号", "没信号", "没有信号", "信号差", "信号弱", "无服务")),
    TicketType("slow_network", C.FAULT, "网速慢", D.NETWORK_OPS, S.IV, ("网速慢", "网络卡", "上网慢", "很慢", "卡", "慢")),
    TicketType("broadband_down", C.FAULT, "宽带断网", D.FIELD_SERVICE, S.III, ("宽带断网", "断网", "宽带故障", "上不了网", "连不上", "没网", "宽带坏", "断了")),
    TicketType("modem_light", C.FAULT, "光猫指示灯异常", D.FIELD_SERVICE, S.III, ("光猫", "光猫红灯", "LOS灯")),
    TicketType("call_failure", C.FAULT, "无法通话", D.NETWORK_OPS, S.III, ("无法通话", "打不出", "打不通", "接不到", "不能打电话", "通话")),
    TicketType("tv_fault", C.FAULT, "电视故障", D.FIELD_SERVICE, S.IV, ("电视故障", "电视", "电视没信号", "电视看不了", "电视黑屏", "IPTV", "机顶盒")),
    TicketType("fault_other", C.FAULT, "其他故障", D.NETWORK_OPS, S.III),
    # Complaints (3.1.2 服务类/投诉类, 3.3.4).
    TicketType("staff_attitude", C.COMPLAINT, "服务态度", D.CUSTOMER_SERVICE, S.III, ("态度", "服务态度")),
    TicketType("billing_dispute", C.COMPLAINT, "计费争议", D.BILLING, S.III, ("乱扣费", "扣费", "话费争议", "计费")),
    TicketType("service_quality", C.COMPLAINT, "服务质量", D.CUSTOMER_SERVICE, S.III, ("service_complaint", "服务质量")),
    TicketType("network_quality", C.COMPLAINT, "网络质量", D.NETWORK_OPS, S.III, ("网络质量", "信号不好")),
    TicketType("complaint_other", C.COMPLAINT, "其他投诉", D.CUSTOMER_SERVICE, S.III),
    # Business (3.1.1; complex requests are severity II: 48 h acceptance, 3 working days).
    TicketType("new_number", C.BUSINESS, "新号码开户", D.BUSINESS_HALL, S.III, ("办新号", "开户", "新号码"), (_ID,)),
    TicketType("secondary_card", C.BUSINESS, "副卡办理", D.BUSINESS_HALL, S.III, ("副卡",), (_ID, "主卡号码")),
    TicketType("broadband_install", C.BUSINESS, "宽带新装", D.FIELD_SERVICE, S.II, ("装宽带", "宽带新装", "宽带安装"), (_ID, "安装地址")),
    TicketType("relocation", C.BUSINESS, "宽带移机", D.FIELD_SERVICE, S.II, ("移机", "搬家"), (_ID, "新安装地址")),
    TicketType("port_in", C.BUSINESS, "携号转入", D.BUSINESS_HALL, S.II, ("携号转入",), (_ID, "携转授权码")),
    TicketType("port_out", C.BUSINESS, "携号转网", D.BUSINESS_HALL, S.II, ("port_number", "携号转网", "携号转出"), (_ID, "携转授权码（编辑短信SQXZ#姓名#证件号码发送至10086获取）")),
    TicketType("cancel_number", C.BUSINESS, "号码销户", D.BUSINESS_HALL, S.III, ("cancel_service", "销户", "注销号码"), (_ID, "宽带拆机需归还光猫等租用设备")),
    TicketType("cancel_broadband", C.BUSINESS, "宽带拆机", D.BUSINESS_HALL, S.III, ("拆机", "宽带拆机"), (_ID, "宽带拆机需归还光猫等租用设备")),
    TicketType("plan_change", C.BUSINESS, "套餐变更", D.BUSINESS_HALL, S.IV, ("改套餐", "套餐变更"), (_ID,)),
    TicketType("business_other", C.BUSINESS, "其他业务", D.BUSINESS_HALL, S.III, (), (_ID,)),
    # Inquiries (3.1.1 投诉与咨询类).
    TicketType("inquiry_general", C.INQUIRY, "业务咨询", D.CUSTOMER_SERVICE, S.IV, ("咨询",)),
)  # fmt: skip

CATEGORY_ALIASES: dict[str, Category] = {
    "application": Category.BUSINESS,
    "apply": Category.BUSINESS,
    "故障": Category.FAULT,
    "报修": Category.FAULT,
    "投诉": Category.COMPLAINT,
    "业务": Category.BUSINESS,
    "办理": Category.BUSINESS,
    "咨询": Category.INQUIRY,
}

CATEGORY_LABELS: dict[Category, str] = {
    Category.FAULT: "故障报修",
    Category.COMPLAINT: "投诉",
    Category.BUSINESS: "业务办理",
    Category.INQUIRY: "咨询",
}
DEPARTMENT_LABELS: dict[Department, str] = {
    Department.NETWORK_OPS: "网络运维部",
    Department.FIELD_SERVICE: "装维服务部",
    Department.BILLING: "计费账务部",
    Department.BUSINESS_HALL: "营业厅",
    Department.CUSTOMER_SERVICE: "客户服务部",
}
SEVERITY_LABELS: dict[Severity, str] = {
    Severity.I: "一级（重大）",
    Severity.II: "二级（较大）",
    Severity.III: "三级（一般）",
    Severity.IV: "四级（轻微）",
}
SEVERITY_PRIORITY: dict[Severity, int] = {Severity.I: 1, Severity.II: 2, Severity.III: 3, Severity.IV: 4}
PRIORITY_LABELS: dict[int, str] = {1: "特急", 2: "紧急", 3: "一般", 4: "低"}


@dataclass(frozen=True)
class Rules:
    """Lookup over the tables; a test or deployment may pass its own rows."""

    deadlines: tuple[DeadlineRule, ...] = DEADLINE_RULES
    types: tuple[TicketType, ...] = TICKET_TYPES

    def deadline(self, category: Category, severity: Severity) -> DeadlineRule:
        for row in self.deadlines:
            if row.category is category and row.severity is severity:
                return row
        raise KeyError(f"no deadline rule for {category}/{severity}")

    def ticket_type(self, code: str) -> TicketType:
        for row in self.types:
            if row.code == code:
                return row
        raise KeyError(code)

    def match_type(self, category: Category, text: str) -> TicketType | None:
        """The type whose code, label or alias the text names; the longest word wins, so
        「光猫红灯了」 is modem_light (not the 光猫 of another row) and 「手机卡没信号」 no_signal."""
        words = (text or "").strip().casefold()
        if not words:
            return None
        best: tuple[int, TicketType] | None = None
        for row in self.types:
            if row.category is not category:
                continue
            if words in (row.code, row.label.casefold()):
                return row
            for alias in (row.label, *row.aliases):
                if alias and alias.casefold() in words and (best is None or len(alias) > best[0]):
                    best = (len(alias), row)
        return best[1] if best else None

    def resolve_type(self, category: Category, raw: str) -> TicketType:
        """The type a customer's words or a code name; unknown words → the category's "other" type."""
        found = self.match_type(category, raw)
        if found is not None:
            return found
        fallback = {
            Category.FAULT: "fault_other",
            Category.COMPLAINT: "complaint_other",
            Category.BUSINESS: "business_other",
            Category.INQUIRY: "inquiry_general",
        }[category]
        return self.ticket_type(fallback)


def parse_category(raw: str) -> Category:
    """A category from its code, a synonym used by other packages, or its Chinese name."""
    text = (raw or "").strip().lower()
    try:
        return Category(text)
    except ValueError:
        pass
    if text in CATEGORY_ALIASES:
        return CATEGORY_ALIASES[text]
    for category, label in CATEGORY_LABELS.items():
        if text == label:
            return category
    raise ValueError(f"unknown ticket category: {raw!r}")


DEFAULT_RULES = Rules()
