"""gateway: how far each channel conversation was delivered to its platform

Revision ID: gw0003
Revises: gw0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gw0003"
down_revision = "gw0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gateway_conversation") as batch:
        batch.add_column(sa.Column("delivered_seq", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("gateway_conversation") as batch:
        batch.drop_column("delivered_seq")
