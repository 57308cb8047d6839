"""Rate budgets shared by every worker process: one row per token bucket.

Revision ID: 0004_budgets
Revises: 0003_claims_watch_inbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_budgets"
down_revision = "0003_claims_watch_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the budgets table."""
    op.create_table(
        "budgets",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    """Drop the budgets table."""
    op.drop_table("budgets")
