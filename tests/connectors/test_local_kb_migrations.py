"""The embedded knowledge base's index migrates with Alembic, from an empty file or an older index."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from frontline.connectors.local.kb import LocalKnowledgeBase

# The index as frontline built it before its schema moved to Alembic: two steps counted in
# PRAGMA user_version (1: the articles, their FTS5 table and its triggers; 2: the meta table).
OLD_STEPS = [
    """
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        url TEXT NOT NULL,
        body TEXT NOT NULL,
        mtime REAL NOT NULL
    );
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, body, content='articles', content_rowid='id', tokenize='porter unicode61'
    );
    CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END;
    CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    END;
    CREATE TRIGGER articles_au AFTER UPDATE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END
    """,
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]


def old_index(path: Path, steps: int, folder: Path | None = None) -> None:
    """An index file as the older code left it, ``steps`` schema steps in, with one article."""
    db = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(OLD_STEPS[:steps], start=1):
        db.executescript(f"BEGIN;\n{script};\nPRAGMA user_version = {number};\nCOMMIT;")
    db.execute("INSERT INTO articles (path, title, url, body, mtime) VALUES (?, ?, ?, ?, ?)",
               ("reset.md", "Reset your password", "https://help/reset", "Use the reset link on the login page.",
                (folder / "reset.md").stat().st_mtime if folder else 1.0))
    if steps >= 2 and folder is not None:
        db.execute("INSERT INTO meta (key, value) VALUES ('folder', ?)", (str(folder.resolve()),))
    db.close()


def revision(path: Path) -> str | None:
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()
    return str(row[0]) if row else None


def titles(kb: LocalKnowledgeBase, query: str) -> list[str]:
    return [hit.title for hit in asyncio.run(kb.search(query, 5))]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "reset.md").write_text("# Reset your password\n\nUse the reset link on the login page.\n", encoding="utf-8")
    return kb


def test_a_new_index_is_created_by_the_alembic_migrations(tmp_path: Path, folder: Path) -> None:
    kb = LocalKnowledgeBase(tmp_path / "kb.db")
    assert revision(tmp_path / "kb.db") == "kb0002"
    assert kb.index(folder).added == 1
    assert titles(kb, "I forgot my password") == ["Reset your password"]
    asyncio.run(kb.aclose())


def test_an_index_built_by_the_older_code_is_upgraded_and_still_found(tmp_path: Path, folder: Path) -> None:
    old_index(tmp_path / "kb.db", 2, folder)
    kb = LocalKnowledgeBase(tmp_path / "kb.db", folder)
    assert revision(tmp_path / "kb.db") == "kb0002"
    assert titles(kb, "I forgot my password") == ["Reset your password"]
    report = kb.index(folder)  # the same folder, the same file: nothing to read again
    assert (report.added, report.updated, report.removed, report.total) == (0, 0, 0, 1)
    asyncio.run(kb.aclose())
    again = LocalKnowledgeBase(tmp_path / "kb.db")  # opening an upgraded index changes nothing
    assert titles(again, "reset link") == ["Reset your password"]
    asyncio.run(again.aclose())


def test_an_index_from_the_first_schema_step_gets_what_came_after(tmp_path: Path, folder: Path) -> None:
    old_index(tmp_path / "kb.db", 1)
    kb = LocalKnowledgeBase(tmp_path / "kb.db")
    assert titles(kb, "reset link") == ["Reset your password"]
    report = kb.index(folder)  # no folder recorded yet: every file is read again, one article each
    assert (report.added, report.updated, report.total) == (0, 1, 1)
    assert titles(kb, "reset link") == ["Reset your password"]
    asyncio.run(kb.aclose())
