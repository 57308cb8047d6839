"""Shared rate budgets in the state store: one ``budgets`` row per token bucket, taken atomically.

A bucket's row holds the tokens it had at ``updated_at``; what it holds now is refilled lazily:
``min(capacity, tokens + (now − updated_at) · rate)``. Taking ``want`` tokens is **one** conditional
UPDATE with that arithmetic in SQL::

    UPDATE budgets SET tokens = level − :want, updated_at = :now
    WHERE name = :name AND level >= :want          -- level: the refill expression above

so the check and the take cannot be split by another process, on either backend:

- SQLite runs it inside ``BEGIN IMMEDIATE``: the write lock is taken before the row is read, and
  writers queue on the busy timeout;
- PostgreSQL locks the row for the UPDATE; a concurrent one waits, then re-evaluates the WHERE
  clause against the committed row (READ COMMITTED), so two processes never spend one token.

The row count says whether the tokens were granted; when not, the row is read to compute how long
to wait. A pause after a 429 moves ``updated_at`` into the future with no tokens: the refill
arithmetic then adds nothing until that moment. Only SQLAlchemy Core, no dialect-specific SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, case, insert, select, update
from sqlalchemy.exc import IntegrityError

from frontline.store.schema import budgets


def _level(now: float, rate: float, capacity: float) -> ColumnElement[Any]:
    """The tokens a row holds at ``now``: refilled since ``updated_at``, at most ``capacity``."""
    elapsed = case((budgets.c.updated_at < now, now - budgets.c.updated_at), else_=0.0)
    refilled = budgets.c.tokens + elapsed * rate
    return case((refilled > capacity, capacity), else_=refilled)


def _moved(now: float) -> ColumnElement[Any]:
    """``updated_at`` after a take at ``now``: never moved back (a pause may lie ahead)."""
    return case((budgets.c.updated_at < now, now), else_=budgets.c.updated_at)


class BudgetTable:
    """The ``budgets`` rows of one state store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction that holds the write lock from its first statement (BEGIN IMMEDIATE on SQLite)."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                raw = conn.connection.dbapi_connection
                if raw is not None and not getattr(raw, "in_transaction", False):
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def ensure(self, name: str, capacity: float, now: float) -> None:
        """Create the bucket's row, full, unless a process created it already."""
        with self.engine.connect() as conn:
            if conn.execute(select(budgets.c.name).where(budgets.c.name == name)).first() is not None:
                return
        try:
            with self._write() as conn:
                if conn.execute(select(budgets.c.name).where(budgets.c.name == name)).first() is None:
                    conn.execute(insert(budgets).values(name=name, tokens=capacity, updated_at=now))
        except IntegrityError:
            pass  # created by another process between the check and the insert

    def take(self, name: str, want: float, now: float, rate: float, capacity: float, advance: float = 0.0
             ) -> tuple[bool, float, float]:
        """Take ``want`` tokens if the bucket holds them at ``now``, or will within ``advance`` tokens' time.

        Taking ahead leaves a debt (negative tokens): the taker sends once it is paid off
        (``-tokens / rate`` seconds), and every later taker waits behind it, so the bucket's pace holds
        while the database round trip stays out of the critical path.

        Returns (granted, tokens, updated_at): the row after a grant, or as it stands when refused
        (the caller works out how long to wait from it).
        """
        level = _level(now, rate, capacity)
        with self._write() as conn:
            granted = conn.execute(
                update(budgets).where(budgets.c.name == name, level >= want - advance)
                .values(tokens=level - want, updated_at=_moved(now))
            ).rowcount == 1
            row = conn.execute(select(budgets.c.tokens, budgets.c.updated_at).where(budgets.c.name == name)).first()
        if row is None:
            return False, 0.0, now
        return granted, float(row.tokens), float(row.updated_at)

    def pause(self, name: str, until: float) -> None:
        """A 429: no tokens until ``until`` (the later pause wins)."""
        with self._write() as conn:
            conn.execute(update(budgets).where(budgets.c.name == name).values(
                tokens=case((budgets.c.tokens < 0, budgets.c.tokens), else_=0.0),
                updated_at=case((budgets.c.updated_at > until, budgets.c.updated_at), else_=until),
            ))

    def debit(self, name: str, cost: float, now: float, rate: float, capacity: float) -> None:
        """Take ``cost`` tokens without checking (may leave a debt later takers wait for)."""
        level = _level(now, rate, capacity)
        with self._write() as conn:
            conn.execute(update(budgets).where(budgets.c.name == name)
                         .values(tokens=level - cost, updated_at=_moved(now)))

    def read(self, name: str) -> tuple[float, float] | None:
        """(tokens, updated_at) as stored, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(budgets.c.tokens, budgets.c.updated_at).where(budgets.c.name == name)).first()
        return None if row is None else (float(row.tokens), float(row.updated_at))
