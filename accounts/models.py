"""Tables of subscriber accounts, one-time codes and plan changes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime


class Subscriber(Base):
    """A mobile or broadband account; amounts are in fen (1/100 yuan) to avoid float money."""

    __tablename__ = "accounts_subscriber"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    id_last4: Mapped[str] = mapped_column(String(4))
    plan_id: Mapped[str] = mapped_column(String(40))
    balance_fen: Mapped[int] = mapped_column(Integer, default=0)
    data_used_mb: Mapped[int] = mapped_column(Integer, default=0)
    data_quota_mb: Mapped[int] = mapped_column(Integer, default=0)
    minutes_used: Mapped[int] = mapped_column(Integer, default=0)
    minutes_quota: Mapped[int] = mapped_column(Integer, default=0)
    contract_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    district: Mapped[str] = mapped_column(String(30), default="")


class OtpCode(Base):
    """The current one-time code of a phone: only a salted hash is stored."""

    __tablename__ = "accounts_otp"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(128), default="")
    salt: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PlanChange(Base):
    """A plan change or add-on order, pending until its effective date or applied."""

    __tablename__ = "accounts_plan_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # plan | addon
    from_offer: Mapped[str] = mapped_column(String(40), default="")
    to_offer: Mapped[str] = mapped_column(String(40))
    effective_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | applied | cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The customer message that asked for it (``actions.request_keys``): unique, so a replayed
    # message finds this change instead of applying a second one.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True, nullable=True)


class ConversationVerification(Base):
    """The phone a conversation proved it holds (right SMS code), until ``expires_at``.

    This row, not a Rasa slot, is what grants access to an account: slots travel over the wire
    and can be forged, this table lives on the server.
    """

    __tablename__ = "accounts_verification"

    conversation_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    verified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PendingProposal(Base):
    """The change the bot itself proposed in a conversation and is waiting for "确认办理" on.

    Kept server-side so that a forged ``pending_change`` slot can never choose what is applied.
    """

    __tablename__ = "accounts_pending_proposal"

    conversation_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # plan | addon | business
    target: Mapped[str] = mapped_column(String(40))  # offer id or business request
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The confirming message that took it (``actions.request_keys``): that message, replayed, takes it
    # again (and the service returns the first result); any other message finds it used.
    taken_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OtpSend(Base):
    """One code sent, for the daily caps per phone and per conversation (rolling 24 hours)."""

    __tablename__ = "accounts_otp_send"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
