"""gateway: what Rasa understood in each bot turn, and the indexes the reports read by

Revision ID: gw0004
Revises: gw0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gw0004"
down_revision = "gw0003"
branch_labels = None
# The ticket indexes below need the ticket tables.
depends_on = "tickets_0001"

# (index name, table, columns): every report filters by a period first, then by channel.
INDEXES = (
    ("ix_gateway_conversation_created_channel", "gateway_conversation", ["created_at", "channel"]),
    ("ix_gateway_message_created", "gateway_message", ["created_at"]),
    (
        "ix_gateway_message_conv_sender_created",
        "gateway_message",
        ["conversation_id", "sender", "created_at"],
    ),
    ("ix_gateway_handoff_requested", "gateway_handoff", ["requested_at"]),
    ("ix_tickets_ticket_created_channel", "tickets_ticket", ["created_at", "channel"]),
    ("ix_tickets_ticket_rated", "tickets_ticket", ["rated_at"]),
    ("ix_tickets_incident_created", "tickets_incident", ["created_at"]),
    ("ix_tickets_ticket_incident", "tickets_ticket", ["incident_id"]),
    # Covering: intents and KB counts read the index alone.
    (
        "ix_gateway_bot_turn_report",
        "gateway_bot_turn",
        ["at", "channel", "intent", "kb_answer", "conversation_id"],
    ),
)


def upgrade() -> None:
    op.create_table(
        "gateway_bot_turn",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("kb_answer", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_gateway_bot_turn_at_channel", "gateway_bot_turn", ["at", "channel"])
    op.create_index("ix_gateway_bot_turn_conversation", "gateway_bot_turn", ["conversation_id", "id"])
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_gateway_bot_turn_conversation", table_name="gateway_bot_turn")
    op.drop_index("ix_gateway_bot_turn_at_channel", table_name="gateway_bot_turn")
    op.drop_table("gateway_bot_turn")
