"""Small builders shared by the ticket tests."""

from __future__ import annotations

from typing import Any

from tickets import TicketService, TicketView


def report_fault(
    service: TicketService,
    phone: str = "13800138000",
    *,
    fault: str = "宽带断网",
    district: str | None = "海淀区",
    text: str = "家里宽带从早上开始就上不了网",
    **kwargs: Any,
) -> TicketView:
    return service.open_ticket(
        category="fault",
        type=fault,
        phone=phone,
        channel="web",
        conversation_id=f"conv-{phone[-4:]}",
        description=text,
        details={"address": f"{district or ''}某小区3号楼"},
        district=district,
        **kwargs,
    )
