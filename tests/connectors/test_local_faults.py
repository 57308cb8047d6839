"""The embedded connectors on a full disk or a locked file raise frontline's error naming the file."""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from frontline import faults, private
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.outbox import OutboxChat
from frontline.errors import DatabaseLockedError, WorkspaceError
from frontline.model import ChatMessage, WriteBack


def record(n: int) -> dict[str, Any]:
    return {"id": str(n), "subject": "s" * 100, "description": "d" * 2000, "requester_name": "", "requester_email": "",
            "company": None, "plan": None, "mrr": None, "tags": [], "priority": None, "status": None,
            "created_at": None, "updated_at": None, "category": None, "severity": None}


def test_an_outbox_on_a_full_disk_names_its_file_and_recovers_when_there_is_room(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "outbox.jsonl"
    real = os.write

    def full(descriptor: int, data: bytes) -> int:
        real(descriptor, data[:7])  # what a write cut short by the full disk leaves: a torn line
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    chat = OutboxChat(path)
    with pytest.raises(WorkspaceError, match="disk is full") as raised:
        asyncio.run(chat.post("#support", ChatMessage("hello"), "fl-1"))
    assert str(path) in str(raised.value)
    monkeypatch.setattr(os, "write", real)
    asyncio.run(chat.post("#support", ChatMessage("hello"), "fl-1"))  # space again: the same alert goes out
    asyncio.run(chat.aclose())
    assert [entry["metadata"]["event_payload"]["idempotency_key"] for entry in OutboxChat(path).entries()] == ["fl-1"]


def test_a_helpdesk_on_a_full_disk_fails_the_write_back_with_one_sentence(tmp_path: Path) -> None:
    helpdesk = LocalHelpdesk(tmp_path / "helpdesk.db")
    helpdesk.upsert([record(1)])
    pages = helpdesk._db.execute("PRAGMA page_count").fetchone()[0]
    helpdesk._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL from here on
    notes = [WriteBack("1", ("a",), None, "n" * 20_000, f"m{n}") for n in range(5)]
    with pytest.raises(WorkspaceError, match="disk is full") as raised:
        asyncio.run(helpdesk.write_back(notes))
    assert str(tmp_path / "helpdesk.db") in str(raised.value)
    assert helpdesk.notes("1") == []  # rolled back whole


def test_a_helpdesk_locked_past_the_busy_timeout_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "BUSY_TIMEOUT", 0.1)
    helpdesk = LocalHelpdesk(tmp_path / "helpdesk.db")
    holder = sqlite3.connect(tmp_path / "helpdesk.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLockedError, match=r"locked by another process for more than 0\.1 s") as raised:
            helpdesk.upsert([record(1)])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(tmp_path / "helpdesk.db") in str(raised.value)
    assert helpdesk.upsert([record(1)]).created == 1  # the lock gone, the same import goes through


def test_writing_a_file_on_a_full_disk_names_it_and_leaves_no_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(WorkspaceError, match="disk is full"):
        private.write_text(tmp_path / "ENG-1.md", "issue")
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_a_folder_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ws").write_text("not a folder", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="is a file, not a folder"):
        private.folder(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match="is a file, not a folder"):
        OutboxChat(tmp_path / "ws" / "outbox.jsonl")


def test_an_outbox_whose_folder_became_a_file_is_not_active(tmp_path: Path) -> None:
    chat = OutboxChat(tmp_path / "ws" / "outbox.jsonl")
    (tmp_path / "ws").rmdir()
    (tmp_path / "ws").write_text("not a folder", encoding="utf-8")
    [check] = asyncio.run(chat.diagnose())
    assert not check.ok and "is not a folder" in check.detail


def test_frontline_busy_timeout_is_the_wait_of_the_embedded_files(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTLINE_BUSY_TIMEOUT", "0.2")
    helpdesk = LocalHelpdesk(tmp_path / "helpdesk.db")
    holder = sqlite3.connect(tmp_path / "helpdesk.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLockedError, match=r"for more than 0\.2 s.*FRONTLINE_BUSY_TIMEOUT"):
            helpdesk.upsert([record(1)])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
