"""What a customer must bring, and which conditions apply, for account-level business handled as a ticket.

Source: service guide 1.2 (identity and information collection before acceptance) and
3.1.1 (porting is an "业务开通类" service, closing a number a "业务停用与退订类" one). The materials
are the ticket type's own row in ``tickets.rules`` (guide 1.3, 5.1.2), so what the customer is told
before confirming is what the ticket lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from tickets.rules import DEFAULT_RULES, Category


@dataclass(frozen=True)
class BusinessRequirement:
    label: str
    ticket_type: str
    conditions: tuple[str, ...]
    guide_section: str

    @property
    def materials(self) -> tuple[str, ...]:
        return DEFAULT_RULES.resolve_type(Category.BUSINESS, self.ticket_type).materials


BUSINESS_REQUIREMENTS: dict[str, BusinessRequirement] = {
    "port_number": BusinessRequirement(
        label="携号转网",
        ticket_type="port_number",
        conditions=("号码状态正常、无欠费", "合约期已满或已办理合约解除", "号码在网满120天"),
        guide_section="3.1.1",
    ),
    "cancel_service": BusinessRequirement(
        label="销户/拆机",
        ticket_type="cancel_service",
        conditions=("结清所有费用", "合约期内销户需按合约约定处理"),
        guide_section="3.1.1",
    ),
}


def describe_requirement(req: BusinessRequirement) -> str:
    """The checklist shown before the customer confirms."""
    materials = "；".join(req.materials)
    conditions = "；".join(req.conditions)
    return f"办理{req.label}需要：{materials}。\n办理条件：{conditions}。"
