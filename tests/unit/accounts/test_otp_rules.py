"""OTP hardening: failures count per phone across codes, resend interval, daily caps, no code logged."""

from __future__ import annotations

import json
import logging
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from accounts.settings import OtpSettings
from accounts.sms import LogSmsProvider
from accounts.verification import (
    DailyLimitReached,
    PhoneLocked,
    ResendTooSoon,
    VerificationService,
    WrongCode,
)

PHONE = "13800138000"


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "var" / "sms_outbox.jsonl"


@pytest.fixture
def service(session_factory, outbox, clock) -> VerificationService:
    return VerificationService(session_factory, LogSmsProvider(outbox), OtpSettings(), clock)


def _code(outbox: Path) -> str:
    return str(json.loads(outbox.read_text(encoding="utf-8").splitlines()[-1])["code"])


def _wrong(outbox: Path) -> str:
    return "000000" if _code(outbox) != "000000" else "111111"


def test_defaults_are_documented_values() -> None:
    s = OtpSettings()
    assert (
        s.max_attempts,
        s.resend_interval_seconds,
        s.daily_codes_per_phone,
        s.daily_codes_per_conversation,
    ) == (
        3,
        60,
        5,
        5,
    )


def test_a_new_code_does_not_reset_the_failures(service, outbox, clock) -> None:
    service.request_code(PHONE, conversation_id="c1")
    for remaining in (2, 1):
        with pytest.raises(WrongCode) as wrong:
            service.verify_code(PHONE, _wrong(outbox), conversation_id="c1")
        assert wrong.value.remaining == remaining
    clock.advance(seconds=61)
    service.request_code(PHONE, conversation_id="c2")  # another conversation, a fresh code
    with pytest.raises(WrongCode) as last:
        service.verify_code(PHONE, _wrong(outbox), conversation_id="c2")
    assert last.value.remaining == 0 and last.value.locked_until == clock.now + timedelta(minutes=15)
    with pytest.raises(PhoneLocked):
        service.verify_code(PHONE, _code(outbox), conversation_id="c2")
    assert service.verified_phone("c2") is None


def test_a_right_code_clears_the_failures(service, outbox, clock) -> None:
    service.request_code(PHONE, conversation_id="c1")
    for _ in range(2):
        with pytest.raises(WrongCode):
            service.verify_code(PHONE, _wrong(outbox), conversation_id="c1")
    service.verify_code(PHONE, _code(outbox), conversation_id="c1")
    clock.advance(seconds=61)
    service.request_code(PHONE, conversation_id="c1")
    with pytest.raises(WrongCode) as wrong:
        service.verify_code(PHONE, _wrong(outbox), conversation_id="c1")
    assert wrong.value.remaining == 2


def test_a_second_code_within_the_resend_interval_is_refused(service, outbox, clock) -> None:
    service.request_code(PHONE, conversation_id="c1")
    first = _code(outbox)
    clock.advance(seconds=20)
    with pytest.raises(ResendTooSoon) as soon:
        service.request_code(PHONE, conversation_id="c9")
    assert soon.value.seconds == 41
    assert _code(outbox) == first  # nothing sent
    clock.advance(seconds=40)
    service.request_code(PHONE, conversation_id="c1")


def test_daily_cap_per_phone(service, clock) -> None:
    for n in range(5):
        service.request_code(PHONE, conversation_id=f"c{n}")
        clock.advance(seconds=61)
    with pytest.raises(DailyLimitReached) as cap:
        service.request_code(PHONE, conversation_id="c-new")
    assert cap.value.scope == "phone" and cap.value.until == clock.now - timedelta(
        seconds=5 * 61
    ) + timedelta(hours=24)
    clock.now = cap.value.until
    service.request_code(PHONE, conversation_id="c-new")


def test_daily_cap_per_conversation_across_phones(session_factory, outbox, clock) -> None:
    from accounts.models import Subscriber
    from kefu.db import session_scope

    phones = [f"1390013900{n}" for n in range(3)]
    with session_scope(session_factory) as session:
        for phone in phones:
            session.add(
                Subscriber(
                    phone=phone, name="测试", id_last4="0000", plan_id="5g-59", status="active", district=""
                )
            )
    settings = OtpSettings(daily_codes_per_conversation=2)
    service = VerificationService(session_factory, LogSmsProvider(outbox), settings, clock)
    service.request_code(phones[0], conversation_id="bomb")
    service.request_code(phones[1], conversation_id="bomb")
    with pytest.raises(DailyLimitReached) as cap:
        service.request_code(phones[2], conversation_id="bomb")
    assert cap.value.scope == "conversation"
    service.request_code(phones[2], conversation_id="someone-else")


def test_the_code_is_never_logged_and_the_outbox_is_owner_only(service, outbox, caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        service.request_code(PHONE, conversation_id="c1")
    code = _code(outbox)
    assert code not in caplog.text and PHONE not in caplog.text
    assert caplog.messages == ["SMS to 138****8000 written to the development outbox (33 characters)"]
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o600
