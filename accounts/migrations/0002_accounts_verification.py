"""accounts: server-side verification per conversation and the pending proposal

Revision ID: accounts_0002
Revises: accounts_0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "accounts_0002"
down_revision = "accounts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts_verification",
        sa.Column("conversation_id", sa.String(128), primary_key=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "accounts_pending_proposal",
        sa.Column("conversation_id", sa.String(128), primary_key=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("accounts_pending_proposal")
    op.drop_table("accounts_verification")
