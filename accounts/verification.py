"""Identity verification by one-time SMS code, with limited tries and a lockout.

Only a salted hash of each code is stored, codes are compared in constant time, and a
phone that exhausts its tries is locked for a while, so account data is shown only to
whoever holds the phone. A right code records the phone against the conversation
(:class:`accounts.models.ConversationVerification`); :meth:`VerificationService.verified_phone`
is the one answer to "which account may this conversation see", never a dialogue slot.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import ConversationVerification, OtpCode, OtpSend, Subscriber
from accounts.settings import OtpSettings
from accounts.sms import SmsProvider
from kefu.db import session_scope


class VerificationError(Exception):
    """Base of every reason a code cannot be sent or accepted."""


class UnknownSubscriber(VerificationError):
    """No account is registered on this phone."""


class PhoneLocked(VerificationError):
    """Too many wrong codes: no new code or check until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


class CodeExpired(VerificationError):
    """No valid code outstanding (never sent, used, or past its lifetime)."""


class WrongCode(VerificationError):
    """The code does not match; ``remaining`` tries are left (0 means now locked)."""

    def __init__(self, remaining: int, locked_until: datetime | None = None) -> None:
        super().__init__(f"wrong code, {remaining} tries left")
        self.remaining = remaining
        self.locked_until = locked_until


class ResendTooSoon(VerificationError):
    """A code was sent moments ago; wait ``seconds``."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"wait {seconds}s")
        self.seconds = seconds


class DailyLimitReached(VerificationError):
    """Too many codes in 24 hours for this phone or this conversation (an SMS bomb); retry ``until``."""

    def __init__(self, scope: str, until: datetime) -> None:
        super().__init__(f"daily code limit per {scope} reached until {until.isoformat()}")
        self.scope = scope  # "phone" | "conversation"
        self.until = until


@dataclass(frozen=True)
class CodeSent:
    phone: str
    expires_at: datetime


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _hash(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


class VerificationService:
    """Issues and checks one-time codes for subscribers' phones."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        sms: SmsProvider,
        settings: OtpSettings | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.sms = sms
        self.settings = settings or OtpSettings()
        self.clock = clock or (lambda: datetime.now(UTC))

    def request_code(self, phone: str, *, conversation_id: str) -> CodeSent:
        """Send a fresh code to ``phone`` for ``conversation_id``.

        Raises UnknownSubscriber, PhoneLocked, ResendTooSoon or DailyLimitReached. A new code
        replaces the old one but keeps the count of wrong codes: failures are per phone.
        """
        now = self.clock()
        s = self.settings
        with session_scope(self.session_factory) as session:
            if session.get(Subscriber, phone) is None:
                raise UnknownSubscriber(phone)
            otp = session.get(OtpCode, phone, with_for_update=True)
            if otp is None:
                otp = OtpCode(phone=phone, attempts=0)
                session.add(otp)
            locked = _aware(otp.locked_until)
            if locked and locked > now:
                raise PhoneLocked(locked)
            sent = _aware(otp.sent_at)
            if (
                s.resend_interval_seconds
                and sent
                and (now - sent).total_seconds() < s.resend_interval_seconds
            ):
                raise ResendTooSoon(int(s.resend_interval_seconds - (now - sent).total_seconds()) + 1)
            self._check_daily_limits(session, phone, conversation_id, now)
            code = "".join(secrets.choice("0123456789") for _ in range(s.code_length))
            otp.salt = secrets.token_hex(16)
            otp.code_hash = _hash(code, otp.salt)
            otp.expires_at = now + timedelta(seconds=s.ttl_seconds)
            otp.sent_at = now
            otp.locked_until = None  # a past lockout is over (a live one was refused above)
            session.add(OtpSend(phone=phone, conversation_id=conversation_id, sent_at=now))
            expires = otp.expires_at
        minutes = max(1, s.ttl_seconds // 60)
        self.sms.send(
            phone, f"【客服中心】您的验证码是{code}，{minutes}分钟内有效，请勿告诉他人。", code=code
        )
        return CodeSent(phone, expires)

    def _check_daily_limits(self, session: Session, phone: str, conversation_id: str, now: datetime) -> None:
        """At most N codes per phone and per conversation in any 24 hours."""
        since = now - timedelta(hours=24)
        limits = (
            ("phone", OtpSend.phone == phone, self.settings.daily_codes_per_phone),
            (
                "conversation",
                OtpSend.conversation_id == conversation_id,
                self.settings.daily_codes_per_conversation,
            ),
        )
        for scope, condition, limit in limits:
            sent = session.scalars(
                select(OtpSend.sent_at).where(condition, OtpSend.sent_at > since).order_by(OtpSend.sent_at)
            ).all()
            if len(sent) >= limit:
                raise DailyLimitReached(scope, sent[len(sent) - limit] + timedelta(hours=24))

    def verified_phone(self, conversation_id: str) -> str | None:
        """The phone this conversation verified, or None if it verified none or the proof expired."""
        return verified_phone_of(self.session_factory, conversation_id, self.clock())

    def forget(self, conversation_id: str) -> None:
        """Drop the conversation's verification (the customer signs off, or changes phone)."""
        with session_scope(self.session_factory) as session:
            record = session.get(ConversationVerification, conversation_id)
            if record is not None:
                session.delete(record)

    def _record(self, session: Session, conversation_id: str, phone: str, now: datetime) -> None:
        expires = now + timedelta(minutes=self.settings.verified_ttl_minutes)
        record = session.get(ConversationVerification, conversation_id)
        if record is None:
            session.add(
                ConversationVerification(
                    conversation_id=conversation_id, phone=phone, verified_at=now, expires_at=expires
                )
            )
        else:
            record.phone, record.verified_at, record.expires_at = phone, now, expires

    def verify_code(self, phone: str, code: str, *, conversation_id: str) -> None:
        """Accept ``code`` for ``phone`` (single use) and record the phone as this conversation's.

        Raises WrongCode, CodeExpired or PhoneLocked; nothing is recorded then.
        """
        now = self.clock()
        code = code.strip()
        with session_scope(self.session_factory) as session:
            otp = session.get(OtpCode, phone, with_for_update=True)
            if otp is None:
                raise CodeExpired(phone)
            locked = _aware(otp.locked_until)
            if locked and locked > now:
                raise PhoneLocked(locked)
            if not otp.code_hash:
                raise CodeExpired(phone)
            expires = _aware(otp.expires_at)
            if expires is None or expires <= now:
                otp.code_hash = ""
                raise CodeExpired(phone)
            if hmac.compare_digest(_hash(code, otp.salt), otp.code_hash):
                otp.code_hash = ""
                otp.attempts = 0
                self._record(session, conversation_id, phone, now)
                return
            otp.attempts += 1
            remaining = self.settings.max_attempts - otp.attempts
            if remaining <= 0:
                until = now + timedelta(minutes=self.settings.lockout_minutes)
                otp.locked_until = until
                otp.code_hash = ""
                otp.attempts = 0
                error = WrongCode(0, until)
            else:
                error = WrongCode(remaining)
        raise error


def verified_phone_of(
    session_factory: sessionmaker[Session], conversation_id: str, now: datetime
) -> str | None:
    """The phone ``conversation_id`` proved by SMS, or None: the one reader of the record.

    The gateway reads it too (agent assist's 「已验证」), so an agent never takes a slot for proof.
    """
    with session_scope(session_factory) as session:
        record = session.get(ConversationVerification, conversation_id)
        if record is None or record.expires_at <= now:
            return None
        return record.phone
