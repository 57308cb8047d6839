"""Small helpers for the embedded connectors' own SQLite files.

A full disk or another process's lock held past :func:`frontline.faults.busy_timeout` (FRONTLINE_BUSY_TIMEOUT) raises
:class:`~frontline.errors.WorkspaceError` or :class:`~frontline.errors.DatabaseLockedError` naming
the file (from :func:`connect`, :func:`migrate` and :func:`transaction`), not sqlite3's bare words.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from frontline import faults, private
from frontline.errors import FrontlineError, WorkspaceError


class Upserted(NamedTuple):
    """What an import did to a store: records created, updated, and found unchanged (so left alone)."""

    created: int
    updated: int
    unchanged: int


def connect(path: Path) -> sqlite3.Connection:
    """Open an embedded SQLite file, created owner-only, in WAL mode."""
    private.touch(path)  # its folder 0700, the file 0600 (SQLite gives -wal and -shm the same mode)
    try:
        connection = sqlite3.connect(path, timeout=faults.busy_timeout(), isolation_level=None,
                                     check_same_thread=False)
        connection.row_factory = sqlite3.Row
        _wal(connection)
        connection.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.DatabaseError as error:
        # Busy or full, not broken: another process holds it, or there is no room for it.
        raise faults.database_fault(error, str(path)) or _unopenable(path, error) from None
    return connection


def _filename(connection: sqlite3.Connection) -> str:
    """The file a connection has open (for the error naming it)."""
    try:
        row = connection.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:
        return "an embedded SQLite file"
    return str(row[2]) if row and row[2] else "an embedded SQLite file"


def _fault(connection: sqlite3.Connection, error: sqlite3.Error) -> FrontlineError | None:
    """frontline's error for a full disk or a lock held too long on this connection's file, else None."""
    return faults.database_fault(error, _filename(connection))


def _unopenable(path: Path, error: sqlite3.DatabaseError) -> WorkspaceError:
    """Why SQLite could not open ``path``, said so a person can fix it."""
    if path.is_dir():
        return WorkspaceError(str(path), "a_folder")
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        return WorkspaceError(str(path), "permission")
    return WorkspaceError(str(path), f"SQLite cannot open it ({error})")


def _wal(connection: sqlite3.Connection, seconds: float | None = None) -> None:
    """Switch to WAL; another process switching the new file at the same moment makes SQLite answer
    "database is locked" at once, without its busy handler, so wait and try again (bounded)."""
    deadline = time.monotonic() + (faults.busy_timeout() if seconds is None else seconds)
    pause = 0.01
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def migrate(connection: sqlite3.Connection, steps: list[str]) -> None:
    """Apply numbered schema steps in order, remembering the version in ``user_version``.

    Several processes may open a new file at once (`frontline worker`): each step takes the write
    lock first, and a step that fails because another process applied it meanwhile is skipped.
    """
    current = connection.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(steps, start=1):
        if number <= current:
            continue
        try:
            connection.executescript(f"BEGIN IMMEDIATE;\n{script};\nPRAGMA user_version = {number};\nCOMMIT;")
        except BaseException as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if connection.execute("PRAGMA user_version").fetchone()[0] >= number:
                continue  # applied by another process while this one waited for the lock
            fault = _fault(connection, error) if isinstance(error, sqlite3.Error) else None
            if fault is not None:
                raise fault from None
            raise


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """A write transaction taken at once (BEGIN IMMEDIATE): committed when the block ends, rolled back
    when it raises (anything, KeyboardInterrupt included). A full disk or a lock held past the busy
    timeout raises frontline's error naming the file."""
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as error:
        raise _fault(connection, error) or error from None
    try:
        yield
        connection.execute("COMMIT")
    except BaseException as error:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        fault = _fault(connection, error) if isinstance(error, sqlite3.Error) else None
        if fault is not None:
            raise fault from None
        raise
