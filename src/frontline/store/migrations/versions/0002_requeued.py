"""Items a person asked to handle again (`frontline state forget`), whatever the cursor says.

Revision ID: 0002_requeued
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_requeued"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the requeue table."""
    op.create_table(
        "requeued",
        sa.Column("flow", sa.String(40), primary_key=True),
        sa.Column("item_id", sa.String(200), primary_key=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop the requeue table."""
    op.drop_table("requeued")
