"""No full phone or ID number reaches a log line."""

from __future__ import annotations

import logging

import pytest

from kefu.privacy import MaskingFilter, mask_phone, mask_sensitive


def test_mask_phone_keeps_first_three_and_last_four() -> None:
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("+86 138-1234-1234") == "138****1234"


def test_mask_sensitive_masks_phones_and_id_numbers_in_text() -> None:
    text = "我的号码13812341234，身份证11010519491231002X，工单TK20261128-0001"
    masked = mask_sensitive(text)
    assert "13812341234" not in masked and "138****1234" in masked
    assert "11010519491231002X" not in masked and "110105********002X" in masked
    assert "TK20261128-0001" in masked  # ticket ids are not personal data


def test_logging_filter_masks_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("kefu.test.privacy")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="kefu.test.privacy"):
        logger.info("code sent to %s", "13912345678")
    assert "13912345678" not in caplog.text
    assert "139****5678" in caplog.text
