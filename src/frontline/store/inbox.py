"""The inbox: webhook deliveries kept in the state store until a worker has processed them.

A delivery is recorded before the webhook is answered, so an answered delivery is never lost; its
(source, delivery id) is unique, so a vendor's redelivery is recorded once. Workers lease entries
(``claimed_by`` / ``claimed_until``); an entry whose worker died is leased again when its lease
runs out, and a failed one comes back after a pause, a bounded number of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from frontline.store.schema import inbox

MAX_ATTEMPTS = 8


def _now() -> datetime:
    return datetime.now(UTC)


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
        now = _now()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(inbox).values(source=source, delivery=delivery, flow=flow, item_id=item_id,
                                                  payload=payload, received_at=now, available_at=now, attempts=0))
        except IntegrityError:
            return False
        return True

    def lease(self, owner: str, *, flow: str | None = None, limit: int = 20, seconds: float = 120.0
              ) -> list[Delivery]:
        """Take up to ``limit`` entries that are due and not leased by a live worker."""
        now = _now()
        until = now + timedelta(seconds=seconds)
        free = and_(inbox.c.done_at.is_(None), inbox.c.available_at <= now, inbox.c.attempts < MAX_ATTEMPTS,
                    or_(inbox.c.claimed_until.is_(None), inbox.c.claimed_until < now))
        if flow is not None:
            free = and_(free, inbox.c.flow == flow)
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

    def done(self, entry_id: int) -> None:
        """Mark an entry processed."""
        with self.engine.begin() as conn:
            conn.execute(update(inbox).where(inbox.c.id == entry_id)
                         .values(done_at=_now(), claimed_by=None, claimed_until=None, error=None))

    def failed(self, entry_id: int, error: str, *, retry_in: float = 60.0) -> None:
        """Give an entry back to be tried again after ``retry_in`` seconds (up to MAX_ATTEMPTS in all)."""
        with self.engine.begin() as conn:
            conn.execute(update(inbox).where(inbox.c.id == entry_id).values(
                claimed_by=None, claimed_until=None, error=error[:2000],
                available_at=_now() + timedelta(seconds=retry_in)))

    def depth(self) -> dict[str, int]:
        """Entries waiting (due or not), and those that gave up after MAX_ATTEMPTS."""
        with self.engine.connect() as conn:
            waiting = conn.execute(select(func.count()).select_from(inbox).where(
                inbox.c.done_at.is_(None), inbox.c.attempts < MAX_ATTEMPTS)).scalar()
            dead = conn.execute(select(func.count()).select_from(inbox).where(
                inbox.c.done_at.is_(None), inbox.c.attempts >= MAX_ATTEMPTS)).scalar()
        return {"waiting": int(waiting or 0), "dead": int(dead or 0)}
