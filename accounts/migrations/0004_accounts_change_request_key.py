"""accounts: the idempotency key of the customer message behind a plan change, add-on or confirmation

Revision ID: ac0004
Revises: accounts_0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ac0004"
down_revision = "accounts_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts_plan_change", sa.Column("request_key", sa.String(64), nullable=True))
    # Unique: one change per customer message; NULL (changes made without a key) may repeat.
    op.create_index(
        "ix_accounts_plan_change_request_key", "accounts_plan_change", ["request_key"], unique=True
    )
    op.add_column("accounts_pending_proposal", sa.Column("taken_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts_pending_proposal") as batch:
        batch.drop_column("taken_by")
    op.drop_index("ix_accounts_plan_change_request_key", table_name="accounts_plan_change")
    with op.batch_alter_table("accounts_plan_change") as batch:
        batch.drop_column("request_key")
