"""Opening the state store's database, SQLite or PostgreSQL, and bringing its schema up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from frontline import faults, private
from frontline.errors import DatabaseURLError, ExtraMissingError, StateError

MIGRATIONS = str(Path(__file__).with_name("migrations"))
SUPPORTED = frozenset({"sqlite", "postgresql"})
# pg_advisory_xact_lock key: processes starting together on a fresh database migrate one at a time.
MIGRATION_LOCK = 0x66726F6E746C696E  # "frontlin"


def _prepare_sqlite_file(parsed: URL) -> None:
    """Create the SQLite file and its folder readable by the owner only."""
    database = parsed.database
    if not database or database == ":memory:":
        return
    private.touch(Path(database))  # its folder 0700, the file 0600


def driver_url(url: str) -> str:
    """``postgresql://`` (and Heroku-style ``postgres://``) URLs use psycopg 3, the `postgres` extra."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def parse_state_url(url: str) -> URL:
    """The state store's URL parsed, when it names SQLite or PostgreSQL (DatabaseURLError otherwise).

    Checked before any driver is imported: a MySQL URL is not a missing `postgres` extra.
    """
    try:
        parsed = make_url(driver_url(url))
    except ArgumentError:
        raise DatabaseURLError(None) from None
    if parsed.get_backend_name() not in SUPPORTED:
        raise DatabaseURLError(parsed.drivername)
    return parsed


def _one_sentence(engine: Engine, parsed: URL) -> None:
    """A full disk or a lock held past the busy timeout raises frontline's error naming the database.

    SQLAlchemy's own error for them shows the statement and up to hundreds of parameter rows (ticket
    ids and decisions), which is noise to an operator and ends up in logs and failure lines.
    """
    postgres = parsed.get_backend_name() == "postgresql"
    database = f"{parsed.host or 'localhost'}/{parsed.database or ''}" if postgres else str(parsed.database)

    @event.listens_for(engine, "handle_error")
    def _translate(context: ExceptionContext) -> BaseException | None:
        return faults.database_fault(context.original_exception, database, postgres=postgres)


def create_state_engine(url: str) -> Engine:
    """An engine tuned for the backend: WAL and a busy timeout on SQLite, pre-ping on PostgreSQL.

    A full disk or a lock held past :func:`frontline.faults.busy_timeout` (FRONTLINE_BUSY_TIMEOUT) raises
    :class:`~frontline.errors.WorkspaceError` or :class:`~frontline.errors.DatabaseLockedError`.
    """
    parsed = parse_state_url(url)
    url = driver_url(url)
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_file(parsed)
        engine = create_engine(url, connect_args={"timeout": faults.busy_timeout()})
        _one_sentence(engine, parsed)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise ExtraMissingError("postgres", exc.name or "a database driver") from None
    _one_sentence(engine, parsed)
    return engine


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _lock(connection: Connection) -> None:
    """Hold the migration lock until this transaction ends, so two processes never migrate at once."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    elif connection.dialect.name == "sqlite":
        # SQLite's DDL is transactional; taking the write lock first makes a second process wait.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(engine: Engine, location: str) -> None:
    """Bring the database to the newest migration in the Alembic scripts at ``location`` (no-op when current).

    Safe with several processes starting together: one migrates while the others wait, then find it
    done. Errors are the driver's (wrapped by SQLAlchemy): each caller says what they mean for it.
    """
    config = Config()
    config.set_main_option("script_location", location)
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        if _current(connection) == head:
            return
    with engine.begin() as connection:
        _lock(connection)
        if _current(connection) == head:  # another process migrated while this one waited
            return
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def migrate(engine: Engine) -> None:
    """Bring the state store's schema to the newest migration (no-op when current); safe with several processes."""
    try:
        upgrade(engine, MIGRATIONS)
    except OperationalError as exc:
        raise StateError(f"Cannot open the state store at {engine.url!r}: {exc.orig}. "
                         "Check FRONTLINE_DATABASE_URL or the workspace folder's permissions.") from None
