"""Alembic environment of the knowledge-base index: runs on the connection frontline hands it.

The index is raw SQL (an FTS5 table and its triggers), so there is no metadata to compare with.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
