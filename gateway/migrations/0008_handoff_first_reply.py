"""gateway: each handoff's first agent message at or after its request, stored on the handoff

Revision ID: gw0008
Revises: gw0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gw0008"
down_revision = "gw0007"
branch_labels = None
depends_on = None

# The first agent message of the conversation at or after the request (the report's definition
# until now, which looked it up per handoff on every report), for the handoffs stored before.
BACKFILL = """
UPDATE gateway_handoff SET first_agent_reply_at = (
    SELECT min(m.created_at) FROM gateway_message m
    WHERE m.conversation_id = gateway_handoff.conversation_id
      AND m.sender = 'agent'
      AND m.created_at >= gateway_handoff.requested_at
)
"""


def upgrade() -> None:
    op.add_column("gateway_handoff", sa.Column("first_agent_reply_at", sa.DateTime(timezone=True)))
    op.execute(BACKFILL)
    # The queue-wait figure reads the request, claim and first reply from the index alone.
    op.drop_index("ix_gateway_handoff_report", table_name="gateway_handoff")
    op.create_index(
        "ix_gateway_handoff_report",
        "gateway_handoff",
        ["requested_at", "conversation_id", "reason", "claimed_at", "first_agent_reply_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_gateway_handoff_report", table_name="gateway_handoff")
    op.create_index(
        "ix_gateway_handoff_report",
        "gateway_handoff",
        ["requested_at", "conversation_id", "reason", "claimed_at"],
    )
    with op.batch_alter_table("gateway_handoff") as batch:
        batch.drop_column("first_agent_reply_at")
