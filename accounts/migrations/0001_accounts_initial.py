"""accounts: subscribers, one-time codes, plan changes

Revision ID: accounts_0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "accounts_0001"
down_revision = None
branch_labels = ("accounts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts_subscriber",
        sa.Column("phone", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("id_last4", sa.String(4), nullable=False),
        sa.Column("plan_id", sa.String(40), nullable=False),
        sa.Column("balance_fen", sa.Integer, nullable=False),
        sa.Column("data_used_mb", sa.Integer, nullable=False),
        sa.Column("data_quota_mb", sa.Integer, nullable=False),
        sa.Column("minutes_used", sa.Integer, nullable=False),
        sa.Column("minutes_quota", sa.Integer, nullable=False),
        sa.Column("contract_end", sa.Date, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("district", sa.String(30), nullable=False),
    )
    op.create_table(
        "accounts_otp",
        sa.Column("phone", sa.String(20), primary_key=True),
        sa.Column("code_hash", sa.String(128), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "accounts_plan_change",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("from_offer", sa.String(40), nullable=False),
        sa.Column("to_offer", sa.String(40), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_accounts_plan_change_phone", "accounts_plan_change", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_accounts_plan_change_phone", table_name="accounts_plan_change")
    op.drop_table("accounts_plan_change")
    op.drop_table("accounts_otp")
    op.drop_table("accounts_subscriber")
