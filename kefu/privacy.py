"""Masking of phone and ID-card numbers, for display and for every log line.

The guide (1.4, 4.4) requires customer data to be kept confidential; a full mobile or
ID number must never reach a log file or an unauthorised screen.
"""

from __future__ import annotations

import logging
import re

# Mainland mobile numbers (optionally +86 / 86 prefixed) and 18-digit ID numbers.
_ID_RE = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_PHONE_RE = re.compile(r"(?<!\d)((?:\+?86)?1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phone(phone: str) -> str:
    """``13812341234`` → ``138****1234``; anything too short is masked whole."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 11:
        digits = digits[-11:]
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * len(digits)


def mask_sensitive(text: str) -> str:
    """Mask every ID-card and mobile number inside free text."""
    text = _ID_RE.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return _PHONE_RE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks phone and ID numbers in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logged as it is
            return True
        masked = mask_sensitive(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_masking_filter(logger: logging.Logger | None = None) -> None:
    """Attach the masking filter to every handler of ``logger`` (default: root)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
