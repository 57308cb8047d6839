"""The inbox: webhook deliveries kept in the state store until a worker has processed them.

A delivery is recorded before the webhook is answered, so an answered delivery is never lost; its
(source, delivery id) is unique, so a vendor's redelivery is recorded once. Workers lease entries
(``claimed_by`` / ``claimed_until``); an entry whose worker died is leased again when its lease
runs out — at once when the caller can tell the holder is gone (a killed process of this machine,
``dead=owners.gone``) — and a failed one comes back after a pause, a bounded number of times.

The poller of `frontline worker` enqueues here too (source ``poll``), so every worker — on one
machine over SQLite, or on several over PostgreSQL — takes its share of one queue. On PostgreSQL a
lease is ``SELECT … FOR UPDATE SKIP LOCKED``: workers never wait for each other's rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, delete, func, or_, select, update

from frontline.errors import UnstorableError
from frontline.storable import MAX_ID, json_problem, text_problem
from frontline.store.portable import insert_missing
from frontline.store.schema import inbox

MAX_ATTEMPTS = 8


def _now() -> datetime:
    return datetime.now(UTC)


def delivery_id(*parts: str) -> str:
    """A delivery id from its parts, hashed when it would not fit the column (200 characters)."""
    raw = ":".join(parts)
    return raw if len(raw) <= 200 else "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """One delivery to enqueue."""

    source: str
    delivery: str
    flow: str
    item_id: str
    payload: Any = None


def unstorable(entry: Entry) -> UnstorableError | None:
    """What in ``entry`` the inbox cannot hold on either backend (a lone surrogate, NUL, a value longer than
    its column, a payload that is not JSON), or None: checked before a batch, so it fails alone."""
    for field, value, limit in (("source", entry.source, 40), ("delivery", entry.delivery, MAX_ID),
                                ("flow", entry.flow, 40), ("item_id", entry.item_id, MAX_ID)):
        if not isinstance(value, str):
            return UnstorableError(field, "is not text")
        problem = text_problem(value, limit=limit)
        if problem is not None:
            return UnstorableError(field, problem)
    found = json_problem(entry.payload, "payload")
    return None if found is None else UnstorableError(*found)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One leased inbox entry."""

    id: int
    source: str
    delivery: str
    flow: str
    item_id: str
    payload: Any
    attempts: int


class Inbox:
    """Durable webhook deliveries on the state store's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, source: str, delivery: str, flow: str, item_id: str, payload: Any = None) -> bool:
        """Record a delivery; False when this (source, delivery) was recorded before (a redelivery)."""
        return bool(self.add_many([Entry(source, delivery, flow, item_id, payload)]))

    def add_many(self, entries: Sequence[Entry]) -> int:
        """Record deliveries in one transaction, skipping those recorded before; returns how many are new.

        ``INSERT … ON CONFLICT DO NOTHING``: a redelivery neither fails nor aborts the transaction.
        """
        if not entries:
            return 0
        now = _now()
        rows = {(e.source, e.delivery): {"source": e.source, "delivery": e.delivery, "flow": e.flow,
                                         "item_id": e.item_id, "payload": e.payload, "received_at": now,
                                         "available_at": now, "attempts": 0} for e in entries}
        with self.engine.begin() as conn:
            return insert_missing(conn, inbox, list(rows.values()), ["source", "delivery"])

    def lease(self, owner: str, *, flow: str | None = None, flows: Collection[str] | None = None, limit: int = 20,
              seconds: float = 120.0, dead: Callable[[str], bool] | None = None) -> list[Delivery]:
        """Take up to ``limit`` entries that are due and not leased by a live worker (of ``flow`` or ``flows``).

        ``dead`` says whether a holder is gone for sure: its entries are taken at once instead of
        when its lease runs out (a restarted process need not wait two minutes for its own deliveries).
        """
        now = _now()
        until = now + timedelta(seconds=seconds)
        scope = and_(inbox.c.done_at.is_(None), inbox.c.available_at <= now, inbox.c.attempts < MAX_ATTEMPTS)
        if flow is not None:
            scope = and_(scope, inbox.c.flow == flow)
        if flows is not None:
            scope = and_(scope, inbox.c.flow.in_(list(flows)))
        unleased = or_(inbox.c.claimed_until.is_(None), inbox.c.claimed_until < now)
        gone = self._gone_holders(scope, owner, now, dead) if dead is not None else []
        free = and_(scope, or_(unleased, inbox.c.claimed_by.in_(gone)) if gone else unleased)
        with self.engine.begin() as conn:
            query = select(inbox.c.id).where(free).order_by(inbox.c.id).limit(limit)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = [row[0] for row in conn.execute(query)]
            if not ids:
                return []
            # The guard repeats the condition: on SQLite two processes may select the same ids.
            conn.execute(update(inbox).where(inbox.c.id.in_(ids), free)
                         .values(claimed_by=owner, claimed_until=until, attempts=inbox.c.attempts + 1))
            rows = conn.execute(select(inbox).where(inbox.c.id.in_(ids), inbox.c.claimed_by == owner,
                                                    inbox.c.claimed_until == until)).mappings()
            return [Delivery(r["id"], r["source"], r["delivery"], r["flow"], r["item_id"], r["payload"],
                             r["attempts"]) for r in rows]

    def _gone_holders(self, scope: ColumnElement[bool], owner: str, now: datetime,
                      dead: Callable[[str], bool]) -> list[str]:
        """The holders of live leases in ``scope`` that ``dead`` says are gone (a few distinct owners)."""
        with self.engine.connect() as conn:
            holders = conn.execute(select(inbox.c.claimed_by).distinct().where(
                scope, inbox.c.claimed_until >= now, inbox.c.claimed_by != owner)).scalars().all()
        return [holder for holder in holders if holder is not None and dead(holder)]

    def extend(self, owner: str, entry_ids: Sequence[int], seconds: float) -> int:
        """Keep ``owner``'s lease on entries still being processed; returns how many it still held."""
        if not entry_ids:
            return 0
        with self.engine.begin() as conn:
            return int(conn.execute(update(inbox).where(inbox.c.id.in_(list(entry_ids)), inbox.c.claimed_by == owner,
                                                        inbox.c.done_at.is_(None))
                                    .values(claimed_until=_now() + timedelta(seconds=seconds))).rowcount)

    def release(self, owner: str, entry_ids: Sequence[int], *, retry_in: float = 0.0) -> None:
        """Give leased entries back unprocessed (shutdown, or another worker holds the item): no attempt is spent."""
        if not entry_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(update(inbox).where(inbox.c.id.in_(list(entry_ids)), inbox.c.claimed_by == owner,
                                             inbox.c.done_at.is_(None))
                         .values(claimed_by=None, claimed_until=None, attempts=inbox.c.attempts - 1,
                                 available_at=_now() + timedelta(seconds=retry_in)))

    def done(self, entry_id: int) -> None:
        """Mark an entry processed."""
        self.done_many([entry_id])

    def done_many(self, entry_ids: Sequence[int]) -> None:
        """Mark entries processed, in one transaction."""
        if not entry_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(update(inbox).where(inbox.c.id.in_(list(entry_ids)))
                         .values(done_at=_now(), claimed_by=None, claimed_until=None, error=None))

    def failed(self, entry_id: int, error: str, *, retry_in: float = 60.0) -> None:
        """Give an entry back to be tried again after ``retry_in`` seconds (up to MAX_ATTEMPTS in all)."""
        with self.engine.begin() as conn:
            conn.execute(update(inbox).where(inbox.c.id == entry_id).values(
                claimed_by=None, claimed_until=None, error=error[:2000].replace("\x00", ""),
                available_at=_now() + timedelta(seconds=retry_in)))

    def pending(self, flows: Collection[str] | None = None, *, within: float = 0.0) -> int:
        """Entries a worker could lease now or within ``within`` seconds (not leased by a live worker)."""
        now = _now()
        query = select(func.count()).select_from(inbox).where(
            inbox.c.done_at.is_(None), inbox.c.attempts < MAX_ATTEMPTS,
            inbox.c.available_at <= now + timedelta(seconds=within),
            or_(inbox.c.claimed_until.is_(None), inbox.c.claimed_until < now))
        if flows is not None:
            query = query.where(inbox.c.flow.in_(list(flows)))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def prune(self, *, older_than: float = 7 * 86400.0) -> int:
        """Forget entries processed more than ``older_than`` seconds ago (their copies of tickets too)."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(inbox).where(
                inbox.c.done_at.is_not(None), inbox.c.done_at < _now() - timedelta(seconds=older_than))).rowcount)

    def depth(self, flows: Collection[str] | None = None) -> dict[str, int]:
        """Entries waiting (due or not), and those that gave up after MAX_ATTEMPTS (of ``flows``, or all)."""
        scope: ColumnElement[bool] = inbox.c.done_at.is_(None)
        if flows is not None:
            scope = and_(scope, inbox.c.flow.in_(list(flows)))
        with self.engine.connect() as conn:
            waiting = conn.execute(select(func.count()).select_from(inbox).where(
                scope, inbox.c.attempts < MAX_ATTEMPTS)).scalar()
            dead = conn.execute(select(func.count()).select_from(inbox).where(
                scope, inbox.c.attempts >= MAX_ATTEMPTS)).scalar()
        return {"waiting": int(waiting or 0), "dead": int(dead or 0)}
