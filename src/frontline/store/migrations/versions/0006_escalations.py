"""The escalation queue: every urgent ticket and escalated conversation, open until a person takes it.

Revision ID: 0006_escalations
Revises: 0004_budgets
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_escalations"
down_revision = "0005_embeddings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the escalations table."""
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("item_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False, server_default="open"),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tracker_ref", sa.String(400), nullable=True),
        sa.Column("alert_ref", sa.String(400), nullable=True),
        sa.UniqueConstraint("source", "item_id", name="uq_escalations_item"),
        sa.Index("ix_escalations_state", "state", "created_at"),
    )


def downgrade() -> None:
    """Drop the escalations table."""
    op.drop_table("escalations")
