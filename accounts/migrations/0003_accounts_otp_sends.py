"""accounts: codes sent, for the daily caps per phone and per conversation

Revision ID: accounts_0003
Revises: accounts_0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "accounts_0003"
down_revision = "accounts_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts_otp_send",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_accounts_otp_send_phone", "accounts_otp_send", ["phone"])
    op.create_index("ix_accounts_otp_send_conversation_id", "accounts_otp_send", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_accounts_otp_send_conversation_id", table_name="accounts_otp_send")
    op.drop_index("ix_accounts_otp_send_phone", table_name="accounts_otp_send")
    op.drop_table("accounts_otp_send")
