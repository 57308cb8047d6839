"""Several processes opening one embedded knowledge base at once (three workers starting together)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from frontline.connectors.local.kb import LocalKnowledgeBase


class Interleaved:
    """A connection that lets another process index the folder right after this one read what it knows.

    The other process gets two seconds: enough to finish unless this one holds the write lock.
    """

    def __init__(self, inner: sqlite3.Connection, meanwhile: threading.Thread) -> None:
        self.inner = inner
        self.meanwhile: threading.Thread | None = meanwhile

    def execute(self, sql: str, *args: Any) -> Any:
        result = self.inner.execute(sql, *args)
        if sql.startswith("SELECT path, mtime FROM articles") and self.meanwhile is not None:
            rows = result.fetchall()
            self.meanwhile.start()
            self.meanwhile.join(timeout=2)
            self.meanwhile = None
            return rows
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_two_processes_indexing_one_folder_at_once_both_succeed(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "reset.md").write_text("# Reset your password\n\nUse the reset link.\n", encoding="utf-8")
    failures: list[BaseException] = []

    def other_process() -> None:
        try:
            other = LocalKnowledgeBase(tmp_path / "kb.db")
            other.index(folder)
            other._db.close()
        except BaseException as error:  # reported below, in the test's own thread
            failures.append(error)

    meanwhile = threading.Thread(target=other_process)
    first = LocalKnowledgeBase(tmp_path / "kb.db")
    first._db = Interleaved(first._db, meanwhile)  # type: ignore[assignment]
    first.index(folder)
    meanwhile.join(timeout=30)
    assert failures == []
    assert [row[0] for row in first._db.execute("SELECT path FROM articles")] == ["reset.md"]
