"""Initial state: cursors, handled items, decisions, effects ledger.

Revision ID: 0001_initial
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the first tables."""
    op.create_table(
        "cursors",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "handled",
        sa.Column("flow", sa.String(40), primary_key=True),
        sa.Column("item_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("decision_id", sa.Integer, nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("item_id", sa.String(200), nullable=False),
        sa.Column("inputs_hash", sa.String(64), nullable=False),
        sa.Column("classifier", sa.String(60), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("category", sa.String(80), nullable=True),
        sa.Column("severity", sa.String(10), nullable=True),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_decisions_item", "decisions", ["flow", "item_id"])
    op.create_table(
        "effects",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("item_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("remote_ref", sa.String(400), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_effects_item", "effects", ["flow", "item_id"])
    op.create_index("ix_effects_status", "effects", ["status"])


def downgrade() -> None:
    """Drop everything."""
    for table in ("effects", "decisions", "handled", "cursors"):
        op.drop_table(table)
