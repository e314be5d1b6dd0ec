"""Recognising mainland phone numbers in what customers type."""

from __future__ import annotations

import re

_MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3})[-\s]?(\d{7,8})(?!\d)")
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


def normalize_mobile(text: str) -> str | None:
    """The 11-digit mainland mobile number in ``text`` (``+86 138-0013-8000`` → ``13800138000``), or None."""
    match = _MOBILE_RE.search(text.translate(_FULLWIDTH))
    return "".join(match.groups()) if match else None


def remove_mobiles(text: str) -> str:
    """``text`` without the mobile numbers in it (as ``normalize_mobile`` finds them)."""
    kept, last = [], 0
    for match in _MOBILE_RE.finditer(text.translate(_FULLWIDTH)):  # same length: spans fit ``text``
        kept.append(text[last : match.start()])
        last = match.end()
    return "".join(kept) + text[last:]


def normalize_contact_number(text: str) -> str | None:
    """A mobile number, or a fixed-line number (broadband accounts are registered on one), or None."""
    mobile = normalize_mobile(text)
    if mobile:
        return mobile
    match = _LANDLINE_RE.search(text.translate(_FULLWIDTH))
    return f"{match.group(1)}-{match.group(2)}" if match else None
