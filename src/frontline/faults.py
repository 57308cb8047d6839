"""A full disk or a lock held too long, said as the error a person can act on.

The state store (SQLAlchemy over sqlite3 or psycopg), the embedded connectors' SQLite files and the
files frontline writes all meet these. Each becomes one sentence naming the file (or database) and
what to do; none carries the SQL, its parameters or a traceback, which said nothing useful to an
operator and, with a batch of 500 rows, printed every ticket id in it.
"""

from __future__ import annotations

import errno
import math
import os
from collections.abc import Mapping

from frontline.errors import ConfigError, DatabaseLockedError, FrontlineError, StateError, WorkspaceError

# Seconds a SQLite connection waits for another process's write lock before giving up (its busy timeout),
# unless the process's environment sets BUSY_TIMEOUT_VARIABLE.
BUSY_TIMEOUT = 30.0
BUSY_TIMEOUT_VARIABLE = "FRONTLINE_BUSY_TIMEOUT"

_FULL_ERRNOS = frozenset(code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG) if code)
# sqlite3 says SQLITE_BUSY and SQLITE_LOCKED in these words (the code names only on Python 3.11+).
_SQLITE_LOCKED = ("database is locked", "database table is locked", "database schema is locked")
_SQLITE_FULL = "database or disk is full"
# PostgreSQL's SQLSTATEs: disk_full, lock_not_available (a lock_timeout ran out).
_PG_FULL, _PG_LOCKED = "53100", "55P03"


def busy_timeout(environ: Mapping[str, str] | None = None) -> float:
    """Seconds a SQLite connection waits for another process's lock: FRONTLINE_BUSY_TIMEOUT, else BUSY_TIMEOUT.

    Read from the process's environment (not the configuration) because every SQLite file frontline opens
    needs it, the state store and the embedded connectors' alike, some before any configuration is loaded.
    A value that is not a positive number of seconds is a ConfigError.
    """
    raw = (os.environ if environ is None else environ).get(BUSY_TIMEOUT_VARIABLE, "").strip()
    if not raw:
        return BUSY_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError("the environment", BUSY_TIMEOUT_VARIABLE,
                          f"is {raw[:40]!r}, not a number of seconds above 0 (such as 60); set it so or unset it")
    return seconds


def disk_full(error: BaseException) -> bool:
    """Whether ``error`` says there is no space left (a full disk, a used-up quota, a file size limit)."""
    if isinstance(error, OSError) and error.errno in _FULL_ERRNOS:
        return True
    return _SQLITE_FULL in str(error).lower()


def database_fault(error: BaseException, database: str, *, postgres: bool = False) -> FrontlineError | None:
    """The error to raise instead of a driver's ``error`` on ``database`` when it is a full disk or a held lock.

    None for anything else (a constraint, a syntax error, a broken connection): those keep their own
    handling. ``database`` is a SQLite file's path, or a PostgreSQL database's host and name.
    """
    if postgres:
        state = getattr(error, "sqlstate", None)
        if state == _PG_FULL:
            return StateError(f"The PostgreSQL database {database} has no disk space left; free some on its "
                              "server, then run this again.")
        if state == _PG_LOCKED:
            return DatabaseLockedError(database, None)
        return None
    text = str(error).lower()
    if any(words in text for words in _SQLITE_LOCKED):
        return DatabaseLockedError(database, busy_timeout())
    if _SQLITE_FULL in text or disk_full(error):
        return WorkspaceError(database, "disk_full")
    return None
