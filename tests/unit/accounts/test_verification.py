"""One-time codes: sent with the phone masked in the log, single use, limited tries, lockout."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from accounts.models import OtpCode
from accounts.settings import OtpSettings
from accounts.sms import LogSmsProvider, make_sms_provider
from accounts.verification import (
    CodeExpired,
    PhoneLocked,
    UnknownSubscriber,
    VerificationService,
    WrongCode,
)
from kefu.db import session_scope


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "sms_outbox.jsonl"


@pytest.fixture
def service(session_factory, outbox, clock) -> VerificationService:
    return VerificationService(session_factory, LogSmsProvider(outbox), OtpSettings(), clock)


def _code(outbox: Path) -> str:
    return str(json.loads(outbox.read_text(encoding="utf-8").splitlines()[-1])["code"])


def test_request_code_writes_outbox_and_masks_phone_in_log(service, outbox, caplog) -> None:
    with caplog.at_level(logging.INFO):
        service.request_code("13800138000", conversation_id="c1")
    code = _code(outbox)
    assert len(code) == 6 and code.isdigit()
    assert "138****8000" in caplog.text and "13800138000" not in caplog.text


def test_request_code_stores_only_a_hash(service, outbox, session_factory) -> None:
    service.request_code("13800138000", conversation_id="c1")
    with session_scope(session_factory) as session:
        otp = session.get(OtpCode, "13800138000")
        assert otp is not None and _code(outbox) not in otp.code_hash


def test_verify_code_accepts_the_right_code_once(service, outbox) -> None:
    service.request_code("13800138000", conversation_id="c1")
    code = _code(outbox)
    service.verify_code("13800138000", code, conversation_id="c1")
    with pytest.raises(CodeExpired):
        service.verify_code("13800138000", code, conversation_id="c1")


def test_request_code_unknown_phone_is_refused(service) -> None:
    with pytest.raises(UnknownSubscriber):
        service.request_code("13912345678", conversation_id="c1")


def test_verify_code_wrong_three_times_locks_the_phone(service, outbox, clock) -> None:
    service.request_code("13800138000", conversation_id="c1")
    code = _code(outbox)
    with pytest.raises(WrongCode) as first:
        service.verify_code("13800138000", "000000" if code != "000000" else "111111", conversation_id="c1")
    assert first.value.remaining == 2
    with pytest.raises(WrongCode):
        service.verify_code("13800138000", "abc", conversation_id="c1")
    with pytest.raises(WrongCode) as last:
        service.verify_code("13800138000", "abc", conversation_id="c1")
    assert last.value.remaining == 0 and last.value.locked_until is not None
    with pytest.raises(PhoneLocked):
        service.verify_code("13800138000", code, conversation_id="c1")
    with pytest.raises(PhoneLocked):
        service.request_code("13800138000", conversation_id="c1")
    clock.advance(minutes=16)
    service.request_code("13800138000", conversation_id="c1")
    service.verify_code("13800138000", _code(outbox), conversation_id="c1")


def test_verify_code_after_expiry_is_refused(service, outbox, clock) -> None:
    service.request_code("13800138000", conversation_id="c1")
    clock.advance(seconds=301)
    with pytest.raises(CodeExpired):
        service.verify_code("13800138000", _code(outbox), conversation_id="c1")


def test_make_sms_provider_unknown_name_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="KEFU_OTP_SMS_PROVIDER"):
        make_sms_provider("carrier-pigeon", tmp_path)
