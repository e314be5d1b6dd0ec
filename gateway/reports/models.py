"""The one table the reports add: what Rasa understood in each bot turn (Rasa's REST answer
carries no intent; the gateway channel appends it, see ``bot/channels/gateway_channel.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models import utcnow
from kefu.db import Base, UtcDateTime

FALLBACK_INTENT = "nlu_fallback"  # Rasa's FallbackClassifier (config.yml)
DENY_INTENT = "deny"  # the 「没解决」 button's payload is /deny


class BotTurn(Base):
    """One answer of the bot to one customer message."""

    __tablename__ = "gateway_bot_turn"
    __table_args__ = (
        Index("ix_gateway_bot_turn_at_channel", "at", "channel"),
        Index("ix_gateway_bot_turn_conversation", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    intent: Mapped[str | None] = mapped_column(String(64), default=None)
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    # The answer quoted the knowledge base (it carried citations).
    kb_answer: Mapped[bool] = mapped_column(Boolean, default=False)


class ReportRollup(Base):
    """One additive count of one closed UTC hour and channel (see ``gateway.reports.rollups``)."""

    __tablename__ = "gateway_report_rollup"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 (SQLAlchemy reads it once)

    hour: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer)


class RollupState(Base):
    """How far the roll-ups reach: every hour before ``rolled_until`` is in ``gateway_report_rollup``."""

    __tablename__ = "gateway_report_rollup_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rolled_until: Mapped[datetime] = mapped_column(UtcDateTime())
