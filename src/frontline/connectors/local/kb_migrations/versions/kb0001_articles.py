"""The articles, their FTS5 index (BM25, porter stemming) kept in step by triggers, and the meta table.

Revision ID: kb0001
Revises:

An index made before the schema moved to Alembic (counted in ``PRAGMA user_version``: 1 had the
articles, 2 added ``meta``) already holds some or all of these: every statement is ``IF NOT
EXISTS``, so such a file keeps its articles and gains what it lacks.
"""

from alembic import op

revision = "kb0001"
down_revision = None
branch_labels = None
depends_on = None

STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS articles (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        url TEXT NOT NULL,
        body TEXT NOT NULL,
        mtime REAL NOT NULL
    )""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
        title, body, content='articles', content_rowid='id', tokenize='porter unicode61'
    )""",
    """CREATE TRIGGER IF NOT EXISTS articles_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    """CREATE TRIGGER IF NOT EXISTS articles_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    END""",
    """CREATE TRIGGER IF NOT EXISTS articles_au AFTER UPDATE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    # Which folder the index mirrors (key 'folder'): another folder, or this one moved, re-reads every file.
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


def upgrade() -> None:
    """Create what the index lacks."""
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    """Drop the index (it is rebuilt from the folder)."""
    for name in ("articles_au", "articles_ad", "articles_ai"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("articles_fts", "meta", "articles"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
