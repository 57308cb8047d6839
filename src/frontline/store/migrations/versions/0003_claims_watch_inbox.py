"""Claims (one worker per item at a time), the watch list (re-read open items when a time signal is due),
and the inbox (webhook deliveries, durable until processed).

Revision ID: 0003_claims_watch_inbox
Revises: 0002_requeued
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_claims_watch_inbox"
down_revision = "0002_requeued"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the claims, watch and inbox tables."""
    op.create_table(
        "claims",
        sa.Column("flow", sa.String(40), primary_key=True),
        sa.Column("item_id", sa.String(200), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "watch",
        sa.Column("flow", sa.String(40), primary_key=True),
        sa.Column("item_id", sa.String(200), primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_watch_due", "flow", "due_at"),
    )
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("delivery", sa.String(200), nullable=False),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("item_id", sa.String(200), nullable=False),
        sa.Column("payload", sa.JSON, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.UniqueConstraint("source", "delivery", name="uq_inbox_delivery"),
        sa.Index("ix_inbox_pending", "done_at", "available_at"),
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("inbox")
    op.drop_table("watch")
    op.drop_table("claims")
