"""Related tickets and incidents in the state store: what the triage flow's incidents step remembers.

Every triaged ticket leaves a row (its own creation time, its customer and what they are worth,
the text the duplicate finder reads — summary and a capped description —, its alert's reference,
the earlier tickets it was linked to), so a later ticket — in this run, the next one, or after a
crash — is linked to it and counted towards an incident. Incidents and their members are inserted
with ``ON CONFLICT DO NOTHING``: a page redone after a crash finds the incident it opened before
instead of opening a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, select, update

from frontline.store.portable import insert_missing, upsert
from frontline.store.schema import incident_members, incidents, related_tickets

# The description kept for the finder: the sentence encoder reads 2,000 characters, BM25 a little more.
BODY_LIMIT = 4000


@dataclass(frozen=True, slots=True)
class RelatedTicket:
    """One triaged ticket as later tickets are compared with it."""

    ticket_id: str
    created_at: datetime
    customer: str
    plan: str | None = None
    mrr: float | None = None
    summary: str = ""
    body: str = ""  # the description, capped (the duplicate finder re-reads summary and body)
    alert_ref: str | None = None
    duplicates: tuple[tuple[str, float], ...] = ()
    incident_id: str | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """A ticket in an incident: when its customer wrote, and who they are."""

    ticket_id: str
    created_at: datetime
    customer: str
    noted: bool = False  # its own note links the incident


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """A stored incident with its members, oldest first."""

    id: str
    flow: str
    status: str
    first_at: datetime
    latest_at: datetime
    summary: str
    members: tuple[Member, ...] = field(default_factory=tuple)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RelatedStore:
    """Reads and writes related tickets and incidents on the state store's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- related tickets -----------------------------------------------------------------------
    def since(self, flow: str, oldest: datetime) -> list[RelatedTicket]:
        """Tickets of ``flow`` created at or after ``oldest``, oldest first (a finder's memory)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(related_tickets).where(
                related_tickets.c.flow == flow, related_tickets.c.created_at >= oldest
            ).order_by(related_tickets.c.created_at, related_tickets.c.ticket_id)).mappings().all()
        return [_related(row) for row in rows]

    def get(self, flow: str, ticket_ids: Iterable[str]) -> dict[str, RelatedTicket]:
        """The stored rows of ``ticket_ids`` that exist."""
        wanted = sorted(set(ticket_ids))
        found: dict[str, RelatedTicket] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                rows = conn.execute(select(related_tickets).where(
                    related_tickets.c.flow == flow, related_tickets.c.ticket_id.in_(wanted[start:start + 500])
                )).mappings().all()
                found.update((row["ticket_id"], _related(row)) for row in rows)
        return found

    def record(self, flow: str, tickets: Sequence[RelatedTicket]) -> None:
        """Insert or refresh these tickets; an alert reference or incident already stored is kept."""
        rows = [{"flow": flow, "ticket_id": t.ticket_id, "created_at": t.created_at, "customer": t.customer[:300],
                 "plan": (t.plan or None) and t.plan[:100], "mrr": t.mrr, "summary": t.summary[:500],
                 "body": t.body[:BODY_LIMIT], "alert_ref": t.alert_ref,
                 "duplicates": [[i, round(s, 4)] for i, s in t.duplicates], "incident_id": t.incident_id}
                for t in tickets]
        with self.engine.begin() as conn:
            upsert(conn, related_tickets, rows, ("flow", "ticket_id"), lambda new: {
                "created_at": new.created_at, "customer": new.customer, "plan": new.plan, "mrr": new.mrr,
                "summary": new.summary, "body": new.body, "duplicates": new.duplicates,
                "alert_ref": func.coalesce(new.alert_ref, related_tickets.c.alert_ref),
                "incident_id": func.coalesce(new.incident_id, related_tickets.c.incident_id)})

    def set_alerts(self, flow: str, refs: dict[str, str]) -> None:
        """Remember where each ticket's alert went (a later duplicate replies in its thread)."""
        if not refs:
            return
        with self.engine.begin() as conn:
            conn.execute(update(related_tickets).where(
                related_tickets.c.flow == flow, related_tickets.c.ticket_id == bindparam("tid"),
            ).values(alert_ref=bindparam("ref")), [{"tid": k, "ref": v} for k, v in refs.items()])

    # -- incidents -------------------------------------------------------------------------------
    def open(self, incident: IncidentRecord) -> IncidentRecord:
        """Store ``incident`` with its members unless it exists; the stored incident either way."""
        with self.engine.begin() as conn:
            insert_missing(conn, incidents, [{
                "id": incident.id, "flow": incident.flow, "status": incident.status, "first_at": incident.first_at,
                "latest_at": incident.latest_at, "summary": incident.summary[:2000], "opened_at": datetime.now(UTC),
            }], ("id",))
        self.join(incident.id, incident.flow, incident.members)
        found = self.incident(incident.id)
        assert found is not None
        return found

    def join(self, incident_id: str, flow: str, members: Sequence[Member]) -> None:
        """Add ``members`` to the incident (each once) and move its first and latest report."""
        if not members:
            return
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            insert_missing(conn, incident_members, [
                {"incident_id": incident_id, "ticket_id": m.ticket_id, "created_at": m.created_at,
                 "customer": m.customer[:300], "joined_at": now, "noted": m.noted} for m in members],
                ("incident_id", "ticket_id"))
            span = conn.execute(select(func.min(incident_members.c.created_at), func.max(incident_members.c.created_at))
                                .where(incident_members.c.incident_id == incident_id)).one()
            conn.execute(update(incidents).where(incidents.c.id == incident_id)
                         .values(first_at=span[0], latest_at=span[1]))
            conn.execute(update(related_tickets).where(
                related_tickets.c.flow == flow, related_tickets.c.ticket_id.in_([m.ticket_id for m in members]),
            ).values(incident_id=incident_id))

    def incident(self, incident_id: str) -> IncidentRecord | None:
        """One incident with its members, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).mappings().first()
            if row is None:
                return None
            members = conn.execute(select(incident_members).where(incident_members.c.incident_id == incident_id)
                                   .order_by(incident_members.c.created_at, incident_members.c.ticket_id)
                                   ).mappings().all()
        return IncidentRecord(row["id"], row["flow"], row["status"], _aware(row["first_at"]), _aware(row["latest_at"]),
                              row["summary"], tuple(Member(m["ticket_id"], _aware(m["created_at"]), m["customer"],
                                                           bool(m["noted"])) for m in members))

    def noted(self, incident_id: str, ticket_ids: Sequence[str]) -> None:
        """These members' notes link the incident now."""
        if not ticket_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(update(incident_members).where(
                incident_members.c.incident_id == incident_id, incident_members.c.ticket_id.in_(list(ticket_ids)),
            ).values(noted=True))

    def incidents_of(self, flow: str) -> list[IncidentRecord]:
        """Every incident of ``flow``, oldest first."""
        with self.engine.connect() as conn:
            ids = conn.execute(select(incidents.c.id).where(incidents.c.flow == flow)
                               .order_by(incidents.c.first_at)).scalars().all()
        return [found for found in (self.incident(i) for i in ids) if found is not None]

    # -- inspection -----------------------------------------------------------------------------
    def links(self, ticket_id: str) -> dict[str, Any]:
        """What `frontline state show` adds: the ticket's ``duplicates`` (id, score) and its ``incident``."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(related_tickets).where(related_tickets.c.ticket_id == ticket_id)
                                ).mappings().all()
        duplicates: list[dict[str, Any]] = []
        incident: dict[str, Any] | None = None
        for row in rows:
            duplicates += [{"id": str(i), "score": float(s)} for i, s in row["duplicates"] or []]
            if row["incident_id"] and incident is None:
                found = self.incident(row["incident_id"])
                if found is not None:
                    incident = {"id": found.id, "status": found.status, "size": len(found.members),
                                "customers": len({m.customer for m in found.members}),
                                "first_at": found.first_at.isoformat(), "latest_at": found.latest_at.isoformat()}
        return {"duplicates": duplicates, "incident": incident}


def _related(row: Any) -> RelatedTicket:
    return RelatedTicket(row["ticket_id"], _aware(row["created_at"]), row["customer"], row["plan"], row["mrr"],
                         row["summary"], row["body"], row["alert_ref"],
                         tuple((str(i), float(s)) for i, s in row["duplicates"] or []), row["incident_id"])
