"""Statements that mean the same on SQLite and PostgreSQL: inserts that tolerate an existing row.

A plain INSERT that hits a unique key raises on both backends, but on PostgreSQL it also aborts the
whole transaction, and it logs an error server-side each time. Both backends understand
``INSERT … ON CONFLICT``, so a race between two workers is settled by the database in one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table

from frontline.errors import StateError


def _insert(conn: Connection, table: Table) -> Any:
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise StateError(f"The state store supports SQLite and PostgreSQL, not {name}. "
                     "Point FRONTLINE_DATABASE_URL at a postgresql:// database, or unset it for SQLite.")


def insert_missing(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> int:
    """Insert the rows whose ``keys`` are not taken yet; returns how many were inserted."""
    if not rows:
        return 0
    statement = _insert(conn, table).on_conflict_do_nothing(index_elements=list(keys))
    return _count(conn, statement.returning(table.c[keys[0]]), rows)


def upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str],
           changes: Callable[[Any], Mapping[str, Any]], where: ColumnElement[bool] | None = None) -> int:
    """Insert rows, or change the existing row with the same ``keys`` (only where ``where`` holds).

    ``changes(excluded)`` maps column names to new values; ``excluded.column`` is the proposed row's
    value. Returns how many rows were inserted or changed (a row ``where`` refused is not counted).
    """
    if not rows:
        return 0
    statement = _insert(conn, table)
    statement = statement.on_conflict_do_update(index_elements=list(keys), set_=dict(changes(statement.excluded)),
                                                where=where)
    return _count(conn, statement.returning(table.c[keys[0]]), rows)


def upsert_returning(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str],
                     changes: Callable[[Any], Mapping[str, Any]], where: ColumnElement[bool] | None,
                     column: str) -> list[Any]:
    """:func:`upsert` as one multi-row statement per 500 rows; ``column`` of each row inserted or changed."""
    found: list[Any] = []
    for start in range(0, len(rows), 500):
        statement = _insert(conn, table)
        statement = statement.on_conflict_do_update(index_elements=list(keys),
                                                    set_=dict(changes(statement.excluded)), where=where)
        chunk = [dict(r) for r in rows[start:start + 500]]
        found += [row[0] for row in conn.execute(statement.values(chunk).returning(table.c[column])).all()]
    return found


def _count(conn: Connection, statement: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """Rows the statement inserted or changed, counted with RETURNING (rowcount is not portable for INSERT)."""
    if len(rows) == 1:
        return len(conn.execute(statement, dict(rows[0])).all())
    return len(conn.execute(statement, [dict(r) for r in rows]).all())
