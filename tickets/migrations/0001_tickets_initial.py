"""tickets: tickets, audit events, comments, incidents, id sequences

Revision ID: tickets_0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tickets_0001"
down_revision = None
branch_labels = ("tickets",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tickets_incident",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("district", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expected_fix_at", TS, nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("resolution_note", sa.Text, nullable=True),
    )
    op.create_index("ix_tickets_incident_district_status", "tickets_incident", ["district", "status"])
    op.create_table(
        "tickets_ticket",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(4), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("department", sa.String(24), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("district", sa.String(32), nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("incident_id", sa.String(24), sa.ForeignKey("tickets_incident.id"), nullable=True),
        sa.Column("report_count", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("first_response_due_at", TS, nullable=False),
        sa.Column("first_responded_at", TS, nullable=True),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("sla_started_at", TS, nullable=False),
        sa.Column("paused_at", TS, nullable=True),
        sa.Column("paused_seconds", sa.Integer, nullable=False),
        sa.Column("overdue", sa.Boolean, nullable=False),
        sa.Column("overdue_at", TS, nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("rating", sa.Integer, nullable=True),
        sa.Column("rating_comment", sa.Text, nullable=True),
        sa.Column("rated_at", TS, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_tickets_ticket_phone_status", "tickets_ticket", ["phone", "status"])
    op.create_index("ix_tickets_ticket_status_due", "tickets_ticket", ["status", "due_at"])
    op.create_index("ix_tickets_ticket_district_created", "tickets_ticket", ["district", "created_at"])
    op.create_table(
        "tickets_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(24), sa.ForeignKey("tickets_ticket.id"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("from_value", sa.String(64), nullable=True),
        sa.Column("to_value", sa.String(64), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_tickets_event_ticket_id", "tickets_event", ["ticket_id"])
    op.create_table(
        "tickets_comment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(24), sa.ForeignKey("tickets_ticket.id"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_tickets_comment_ticket_id", "tickets_comment", ["ticket_id"])
    op.create_table(
        "tickets_sequence",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "tickets_sequence",
        "tickets_comment",
        "tickets_event",
        "tickets_ticket",
        "tickets_incident",
    ):
        op.drop_table(table)
