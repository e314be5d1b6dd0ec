"""What a customer must bring for account-level business handled as a ticket.

Source: service guide 1.2 (identity and information collection before acceptance) and
3.1.1 (porting is an "业务开通类" service, closing a number a "业务停用与退订类" one).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BusinessRequirement:
    label: str
    ticket_type: str
    materials: tuple[str, ...]
    conditions: tuple[str, ...]
    guide_section: str


BUSINESS_REQUIREMENTS: dict[str, BusinessRequirement] = {
    "port_number": BusinessRequirement(
        label="携号转网",
        ticket_type="port_number",
        materials=("机主本人有效身份证件原件", "携转授权码（编辑短信SQXZ#姓名#证件号码发送至10086获取）"),
        conditions=("号码状态正常、无欠费", "合约期已满或已办理合约解除", "号码在网满120天"),
        guide_section="3.1.1",
    ),
    "cancel_service": BusinessRequirement(
        label="销户/拆机",
        ticket_type="cancel_service",
        materials=("机主本人有效身份证件原件", "宽带拆机需归还光猫等租用设备"),
        conditions=("结清所有费用", "合约期内销户需按合约约定处理"),
        guide_section="3.1.1",
    ),
}


def describe_requirement(req: BusinessRequirement) -> str:
    """The checklist shown before the customer confirms."""
    materials = "；".join(req.materials)
    conditions = "；".join(req.conditions)
    return f"办理{req.label}需要：{materials}。\n办理条件：{conditions}。"
