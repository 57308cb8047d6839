"""Sentence-encoder vectors of the articles, kept beside them in the index (one row per article).

Revision ID: kb0002
Revises: kb0001

``version`` hashes the article's text and the encoder's name: an edited article, or another
encoder, is encoded again at its next search. A deleted article's row goes with it (trigger).
"""

from alembic import op

revision = "kb0002"
down_revision = "kb0001"
branch_labels = None
depends_on = None

STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS article_vectors (
        article_id INTEGER PRIMARY KEY,
        version TEXT NOT NULL,
        title BLOB NOT NULL,
        whole BLOB NOT NULL
    )""",
    """CREATE TRIGGER IF NOT EXISTS article_vectors_ad AFTER DELETE ON articles BEGIN
        DELETE FROM article_vectors WHERE article_id = old.id;
    END""",
)


def upgrade() -> None:
    """Create the vectors table and the trigger that prunes it."""
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    """Drop them (vectors are computed again from the articles)."""
    op.execute("DROP TRIGGER IF EXISTS article_vectors_ad")
    op.execute("DROP TABLE IF EXISTS article_vectors")
