"""A related ticket keeps its text, not its terms: the duplicate finder rebuilds its index from it.

Revision ID: 0008_related_body
Revises: 0007_incidents
"""

from alembic import op

revision = "0008_related_body"
down_revision = "0007_incidents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Rename related_tickets.terms to body (rows written before hold the ticket's terms: still its words)."""
    with op.batch_alter_table("related_tickets") as batch:
        batch.alter_column("terms", new_column_name="body")


def downgrade() -> None:
    """Rename body back to terms."""
    with op.batch_alter_table("related_tickets") as batch:
        batch.alter_column("body", new_column_name="terms")
