"""gateway: when each conversation first went to the humans, stored on the conversation

Revision ID: gw0009
Revises: gw0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gw0009"
down_revision = "gw0008"
branch_labels = None
depends_on = None

# The conversations with a handoff (the containment figure's definition, which probed the
# handoffs of every conversation of the period on every report), for those stored before.
BACKFILL = """
UPDATE gateway_conversation SET first_handoff_at = (
    SELECT min(h.requested_at) FROM gateway_handoff h WHERE h.conversation_id = gateway_conversation.id
)
"""


def upgrade() -> None:
    op.add_column("gateway_conversation", sa.Column("first_handoff_at", sa.DateTime(timezone=True)))
    op.execute(BACKFILL)
    # Containment counts a period's conversations with and without a handoff from the index alone.
    op.drop_index("ix_gateway_conversation_report", table_name="gateway_conversation")
    op.create_index(
        "ix_gateway_conversation_report",
        "gateway_conversation",
        ["created_at", "channel", "first_handoff_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_gateway_conversation_report", table_name="gateway_conversation")
    op.create_index("ix_gateway_conversation_report", "gateway_conversation", ["created_at", "channel", "id"])
    with op.batch_alter_table("gateway_conversation") as batch:
        batch.drop_column("first_handoff_at")
