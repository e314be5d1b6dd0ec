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


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话138 0013 8000", "电话138**** 8000"),
        ("电话138-0013-8000", "电话138****-8000"),
        ("电话１３９００１３９０００", "电话１３９****９０００"),
        ("+86 13800138000", "+86 138****8000"),
        ("+8613800138000", "+86138****8000"),
        ("卡号6222021234567890123", "卡号**** **** **** 0123"),
        ("卡号6222 0212 3456 7890", "卡号**** **** **** 7890"),
        ("卡号6222-0212-3456-7890-123", "卡号**** **** **** 0123"),
        ("身份证110101199003071234", "身份证110101********1234"),
        ("老身份证110101900307123", "老身份证110101******123"),
        ("【客服中心】您的验证码是569772，5分钟内有效", "【客服中心】您的验证码是******，5分钟内有效"),
        ("验证码：5697", "验证码：******"),
        ("GET /conversations/c1/tracker?token=s3cr3t&x=1", "GET /conversations/c1/tracker?token=***&x=1"),
    ],
)
def test_mask_sensitive_covers_every_format(text: str, masked: str) -> None:
    assert mask_sensitive(text) == masked


def test_numbers_that_are_not_personal_data_are_kept() -> None:
    text = "工单TK20261128-0001，金额86.50元，2026年12月01日，套餐5g-129，端口5055"
    assert mask_sensitive(text) == text


def test_installed_masking_covers_every_handler_and_the_traceback() -> None:
    """A handler added after installation (as Sanic or Rasa do) still prints masked text."""
    import io

    from kefu.privacy import install_log_masking

    install_log_masking()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("kefu.test.privacy.late")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError("bad phone 13800138000, card 6222021234567890123, 验证码是569772")
    except ValueError:
        logger.exception("failed for %s", "１３９００１３９０００")
    out = stream.getvalue()
    assert "failed for １３９****９０００" in out and "ValueError: bad phone 138****8000" in out
    for secret in ("13800138000", "6222021234567890123", "569772", "１３９００１３９０００"):
        assert secret not in out
