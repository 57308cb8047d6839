"""Alembic migrations of the embedded knowledge base's index (its own SQLite file, kb.db)."""
