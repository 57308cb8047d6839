"""The escalation queue in the state store: what was escalated, why, and who has it (nobody, at first).

Triage enters an urgent ticket (the escalation protocol) and the escalate flow an escalated
conversation; each item is in the queue once per source flow, so entering it again (a retried
page, a restart) changes nothing but fills in a tracker or alert reference it lacked. Entries start
``open`` with no owner; owners, timers and outcomes are the Escalation Manager's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select

from frontline.store.portable import upsert
from frontline.store.schema import escalations

OPEN = "open"


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One escalation in the queue."""

    id: int
    source: str  # the flow that escalated it: triage, escalate (triage@emea for a team)
    item_id: str
    reason: str
    priority: str
    state: str
    owner: str | None
    created_at: datetime
    tracker_ref: str | None
    alert_ref: str | None


@dataclass(frozen=True, slots=True)
class Entering:
    """One item to enter in the queue: why, how urgent, and the references known so far."""

    item_id: str
    reason: str
    priority: str
    tracker_ref: str | None = None
    alert_ref: str | None = None


class EscalationQueue:
    """The ``escalations`` rows of one state store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, source: str, item_id: str, *, reason: str, priority: str, tracker_ref: str | None = None,
            alert_ref: str | None = None, now: datetime | None = None) -> QueueEntry:
        """Enter an escalation, open and unowned; an item already entered by ``source`` keeps its row.

        A reference the row lacks is filled in; reason, priority, state and owner stay as they are.
        """
        with self.engine.begin() as conn:
            self._enter(conn, source, [Entering(item_id, reason, priority, tracker_ref, alert_ref)], now)
            found = conn.execute(select(escalations).where(escalations.c.source == source,
                                                           escalations.c.item_id == item_id)).one()
        return _entry(found)

    def add_many(self, source: str, items: Sequence[Entering], now: datetime | None = None) -> None:
        """:meth:`add` for several items in one transaction (a triage page's urgent tickets), entered in order."""
        if items:
            with self.engine.begin() as conn:
                self._enter(conn, source, items, now)

    @staticmethod
    def _enter(conn: Connection, source: str, items: Sequence[Entering], now: datetime | None) -> None:
        when = now or datetime.now(UTC)
        rows = [{"source": source, "item_id": item.item_id, "reason": item.reason[:4000], "priority": item.priority,
                 "state": OPEN, "owner": None, "created_at": when, "tracker_ref": item.tracker_ref,
                 "alert_ref": item.alert_ref} for item in items]
        upsert(conn, escalations, rows, ["source", "item_id"], lambda new: {
            "tracker_ref": func.coalesce(escalations.c.tracker_ref, new.tracker_ref),
            "alert_ref": func.coalesce(escalations.c.alert_ref, new.alert_ref),
        })

    def list(self, *, state: str | None = None, source: str | None = None,
             item_ids: Sequence[str] | None = None) -> list[QueueEntry]:
        """Entries, oldest first; only those in ``state``, from ``source`` or for ``item_ids`` when given."""
        query = select(escalations).order_by(escalations.c.created_at, escalations.c.id)
        if state is not None:
            query = query.where(escalations.c.state == state)
        if source is not None:
            query = query.where(escalations.c.source == source)
        if item_ids is not None:
            query = query.where(escalations.c.item_id.in_(list(item_ids)))
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query).all()]


def _entry(row: object) -> QueueEntry:
    mapping = row._mapping  # type: ignore[attr-defined]
    return QueueEntry(**{name: mapping[name] for name in QueueEntry.__dataclass_fields__})
