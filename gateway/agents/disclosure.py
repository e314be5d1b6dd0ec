"""Who among the staff sees what of a customer: the one table of it for the agents' tools.

Agents see phone, ID and card numbers masked (guide 1.4, 4.4: customer data is confidential
and shown only to whom needs it); supervisors and admins, who settle complaints and call back,
may see them in full, and may therefore also search history by phone number.
"""

from __future__ import annotations

from kefu.privacy import mask_sensitive

FULL_NUMBER_ROLES = ("supervisor", "admin")


def sees_full_numbers(role: str) -> bool:
    return role in FULL_NUMBER_ROLES


def shown(text: str, role: str) -> str:
    """``text`` as someone with ``role`` may read it."""
    return text if sees_full_numbers(role) else mask_sensitive(text)
