"""Sentence-encoder vectors cached per item version: one row per (kind, item).

Revision ID: 0005_embeddings
Revises: 0004_budgets
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_embeddings"
down_revision = "0004_budgets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the embeddings table."""
    op.create_table(
        "embeddings",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("item_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    """Drop the embeddings table."""
    op.drop_table("embeddings")
