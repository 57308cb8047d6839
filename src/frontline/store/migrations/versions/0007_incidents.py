"""Related tickets (duplicates), incidents and their members, for the triage flow's incidents step.

Revision ID: 0007_incidents
Revises: 0004_budgets
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_incidents"
down_revision = "0006_escalations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the related_tickets, incidents and incident_members tables."""
    op.create_table(
        "related_tickets",
        sa.Column("flow", sa.String(40), primary_key=True),
        sa.Column("ticket_id", sa.String(200), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer", sa.String(300), nullable=False),
        sa.Column("plan", sa.String(100), nullable=True),
        sa.Column("mrr", sa.Float, nullable=True),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("terms", sa.Text, nullable=False),
        sa.Column("alert_ref", sa.String(400), nullable=True),
        sa.Column("duplicates", sa.JSON, nullable=False),
        sa.Column("incident_id", sa.String(200), nullable=True),
    )
    op.create_index("ix_related_created", "related_tickets", ["flow", "created_at"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_incidents_flow", "incidents", ["flow", "status"])
    op.create_table(
        "incident_members",
        sa.Column("incident_id", sa.String(200), primary_key=True),
        sa.Column("ticket_id", sa.String(200), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer", sa.String(300), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("noted", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("incident_members")
    op.drop_index("ix_incidents_flow", "incidents")
    op.drop_table("incidents")
    op.drop_index("ix_related_created", "related_tickets")
    op.drop_table("related_tickets")
