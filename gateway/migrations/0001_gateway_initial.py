"""gateway: conversations and messages

Revision ID: gw0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gw0001"
down_revision = None
branch_labels = ("gateway",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_conversation",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_user_id", sa.String(128), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("assigned_agent", sa.String(64), nullable=True),
        sa.Column("handoff_reason", sa.String(64), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gateway_conversation_channel_user_id", "gateway_conversation", ["channel_user_id"])
    op.create_index("ix_gateway_conversation_state", "gateway_conversation", ["state"])
    op.create_index("ix_gateway_conversation_assigned_agent", "gateway_conversation", ["assigned_agent"])
    op.create_table(
        "gateway_message",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(64),
            sa.ForeignKey("gateway_conversation.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("client_msg_id", sa.String(64), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_gateway_message_seq"),
        sa.UniqueConstraint("conversation_id", "client_msg_id", name="uq_gateway_message_client_id"),
    )
    op.create_index("ix_gateway_message_conversation_id", "gateway_message", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("gateway_message")
    op.drop_table("gateway_conversation")
