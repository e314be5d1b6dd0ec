"""gateway: hourly report roll-ups per channel, and how far they reach

Revision ID: gw0007
Revises: gw0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gw0007"
down_revision = "gw0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_report_rollup",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False, server_default=""),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "channel", "metric", "key"),
        sqlite_with_rowid=False,  # a period's rows are read in key order, straight from the tree
    )
    op.create_table(
        "gateway_report_rollup_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rolled_until", sa.DateTime(timezone=True), nullable=False),
    )
    # The 「没解决」 count looks up each deny turn's previous turn of its conversation.
    op.create_index(
        "ix_gateway_bot_turn_conversation_kb", "gateway_bot_turn", ["conversation_id", "id", "kb_answer"]
    )
    # Covering: a period's conversations (and their ids, for containment) from the index alone.
    op.create_index("ix_gateway_conversation_report", "gateway_conversation", ["created_at", "channel", "id"])
    # Containment and handoffs read the handoff's conversation, reason and times from the index alone.
    op.create_index(
        "ix_gateway_handoff_report",
        "gateway_handoff",
        ["requested_at", "conversation_id", "reason", "claimed_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_gateway_handoff_report", table_name="gateway_handoff")
    op.drop_index("ix_gateway_conversation_report", table_name="gateway_conversation")
    op.drop_index("ix_gateway_bot_turn_conversation_kb", table_name="gateway_bot_turn")
    op.drop_table("gateway_report_rollup_state")
    op.drop_table("gateway_report_rollup")
