"""A full disk, a database lock held past the busy timeout and a workspace that is a file: one sentence each,
naming the file and what to do, never a traceback, the SQL or its parameters."""

from __future__ import annotations

import errno
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from frontline import faults
from frontline.cli import cli, model, run, tickets  # noqa: F401  (registers the commands)

TICKETS = 300


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with 300 tickets imported into its workspace, as the current directory."""
    (tmp_path / "frontline.toml").write_text(
        f'[local]\nworkspace = "{(tmp_path / "ws").as_posix()}"\nkb_dir = "{(tmp_path / "kb").as_posix()}"\n'
        'echo = false\n[classifier]\nkind = "rules"\n', encoding="utf-8")
    (tmp_path / "tickets.jsonl").write_text("".join(
        json.dumps({"id": n, "subject": "Locked out", "description": "I forgot my password"}) + "\n"
        for n in range(1, TICKETS + 1)), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert invoke("import", "tickets", "tickets.jsonl").exit_code == 0
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def assert_one_sentence(result: Result, *words: str) -> None:
    """A failed command that said what went wrong in one line naming ``words``, and nothing of its insides."""
    assert result.exit_code != 0
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for word in words:
        assert word in errors[0], result.output
    for inside in ("Traceback", "INSERT", "UPDATE", "SELECT", "[parameters", "[SQL", "sqlalche.me"):
        assert inside not in result.output


@pytest.fixture
def full_state_store(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite answers every write to the (existing) state store as it does on a full disk."""
    assert invoke("run", "triage", "--limit", "1").exit_code == 0

    def full(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SQLiteDialect_pysqlite, "do_execute", _writes_fail(SQLiteDialect_pysqlite.do_execute, full))
    monkeypatch.setattr(SQLiteDialect_pysqlite, "do_executemany",
                        _writes_fail(SQLiteDialect_pysqlite.do_executemany, full))


def _writes_fail(real: Any, fail: Any) -> Any:
    def execute(self: Any, cursor: Any, statement: str, *args: Any, **kwargs: Any) -> Any:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            fail()
        return real(self, cursor, statement, *args, **kwargs)
    return execute


def test_a_full_disk_under_the_state_store_is_one_sentence(project: Path, full_state_store: None) -> None:
    result = invoke("run", "triage")
    assert_one_sentence(result, "frontline.db", "disk is full", "free some space")


@pytest.fixture
def locked_state_store(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Another process holds the state store's write lock; frontline waits a tenth of a second for it."""
    assert invoke("run", "triage", "--limit", "1").exit_code == 0  # the store exists, migrated
    monkeypatch.setattr(faults, "BUSY_TIMEOUT", 0.1)
    holder = sqlite3.connect(project / "ws" / "frontline.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_lock_held_past_the_busy_timeout_is_one_sentence_without_the_sql(locked_state_store: None) -> None:
    result = invoke("run", "triage")
    assert_one_sentence(result, "frontline.db", "locked by another process", "0.1")


def test_the_busy_timeout_is_the_one_sqlite_waits(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from frontline.store.engine import create_state_engine

    monkeypatch.setattr(faults, "BUSY_TIMEOUT", 0.25)
    engine = create_state_engine(f"sqlite:///{project / 'ws' / 'other.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 250
    engine.dispose()


def test_a_full_disk_under_the_helpdesk_is_one_sentence_on_import(project: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from frontline.connectors.local import helpdesk

    real = helpdesk.connect

    def tiny(path: Path) -> sqlite3.Connection:
        connection = real(path)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL once a page is needed
        return connection

    monkeypatch.setattr(helpdesk, "connect", tiny)
    (project / "more.jsonl").write_text("".join(
        json.dumps({"id": f"new-{n}", "subject": "x" * 200, "description": "y" * 2000}) + "\n" for n in range(200)),
        encoding="utf-8")
    result = invoke("import", "tickets", "more.jsonl")
    assert_one_sentence(result, "helpdesk.db", "disk is full")


def test_a_full_disk_when_saving_a_model_is_one_sentence(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import joblib

    (project / "labelled.csv").write_text("text,label\n" + "".join(
        f"cannot log in {n},account_issue\nrefund my invoice {n},billing\n" for n in range(20)), encoding="utf-8")

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(joblib, "dump", full)
    result = invoke("train", "--data", "labelled.csv", "--text-column", "text", "--label-column", "label",
                    "--out", "model.joblib")
    assert_one_sentence(result, "model.joblib", "disk is full")
    assert [path.name for path in project.iterdir() if "model" in path.name] == []  # no half-written file left


def test_a_full_disk_anywhere_else_is_still_one_sentence_naming_the_file(project: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from frontline.connectors.local.helpdesk import LocalHelpdesk

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(project / "ws" / "somewhere.tmp"))

    monkeypatch.setattr(LocalHelpdesk, "upsert", full)
    assert_one_sentence(invoke("import", "tickets", "tickets.jsonl"), "somewhere.tmp", "disk is full")


@pytest.fixture
def locked_by_another(project: Path) -> Iterator[None]:
    """Another process holds the state store's write lock (the store exists, migrated)."""
    assert invoke("run", "triage", "--limit", "1").exit_code == 0
    holder = sqlite3.connect(project / "ws" / "frontline.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_the_lock_sentence_says_how_to_wait_longer_and_frontline_busy_timeout_does(
        locked_by_another: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # The wait was settable only in code: a person told "locked for more than 30 s" had no way to wait longer.
    monkeypatch.setenv("FRONTLINE_BUSY_TIMEOUT", "0.15")
    result = invoke("run", "triage")
    assert_one_sentence(result, "frontline.db", "for more than 0.15 s", "FRONTLINE_BUSY_TIMEOUT")


def test_frontline_busy_timeout_sets_the_state_store_s_wait(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from frontline.store.engine import create_state_engine

    monkeypatch.setenv("FRONTLINE_BUSY_TIMEOUT", "2.5")
    engine = create_state_engine(f"sqlite:///{project / 'ws' / 'other.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    engine.dispose()


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf", "0"])
def test_a_busy_timeout_that_is_not_a_positive_number_of_seconds_is_one_sentence(
        project: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FRONTLINE_BUSY_TIMEOUT", value)
    result = invoke("run", "triage", "--limit", "1")
    assert_one_sentence(result, "FRONTLINE_BUSY_TIMEOUT", "seconds")
