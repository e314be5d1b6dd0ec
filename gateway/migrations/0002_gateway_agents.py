"""gateway: agents, agent sessions, sign-in attempts, handoffs, audit log

Revision ID: gw0002
Revises: gw0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gw0002"
down_revision = "gw0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_agent",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "gateway_agent_session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
    )
    op.create_index("ix_gateway_agent_session_agent_id", "gateway_agent_session", ["agent_id"])
    op.create_table(
        "gateway_login_attempt",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gateway_login_attempt_username", "gateway_login_attempt", ["username"])
    op.create_index("ix_gateway_login_attempt_at", "gateway_login_attempt", ["at"])
    op.create_table(
        "gateway_handoff",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("after_hours", sa.Boolean(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("ticket_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_gateway_handoff_conversation_id", "gateway_handoff", ["conversation_id"])
    op.create_table(
        "gateway_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("ticket_id", sa.String(32), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_gateway_audit_at", "gateway_audit", ["at"])
    op.create_index("ix_gateway_audit_actor", "gateway_audit", ["actor"])
    op.create_index("ix_gateway_audit_action", "gateway_audit", ["action"])
    op.create_index("ix_gateway_audit_conversation_id", "gateway_audit", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("gateway_audit")
    op.drop_table("gateway_handoff")
    op.drop_table("gateway_login_attempt")
    op.drop_table("gateway_agent_session")
    op.drop_table("gateway_agent")
