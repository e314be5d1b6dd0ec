"""tickets: the idempotency key of the customer message behind each opened or joined ticket

Revision ID: tk0002
Revises: tickets_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tk0002"
down_revision = "tickets_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets_request",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("ticket_id", sa.String(24), sa.ForeignKey("tickets_ticket.id"), nullable=False),
        sa.Column("merged", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tickets_request_ticket_id", "tickets_request", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_request_ticket_id", table_name="tickets_request")
    op.drop_table("tickets_request")
