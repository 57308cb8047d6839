"""The state store: cursors, handled items, decisions and the effects ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from frontline.model import Effect, EffectStatus
from frontline.store.engine import create_state_engine, migrate
from frontline.store.portable import upsert, upsert_returning
from frontline.store.schema import claims, cursors, decisions, effects, handled, requeued, watch


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision to record for an item (triage or escalation)."""

    flow: str
    item_id: str
    version: str
    inputs_hash: str
    classifier: str
    confidence: float
    category: str | None
    severity: str | None
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Decided:
    """The decision an item is handled with now, as stored (what a re-triage compares with)."""

    decision_id: int
    category: str | None
    severity: str | None
    fields: dict[str, Any]
    created_at: datetime


class StateStore:
    """Everything frontline remembers between runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> StateStore:
        """Open (and migrate) the store at ``url``."""
        engine = create_state_engine(url)
        migrate(engine)
        return cls(engine)

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    # -- cursors -----------------------------------------------------------------------------
    def get_cursor(self, source: str) -> str | None:
        """The saved position of ``source``."""
        with self.engine.connect() as conn:
            return conn.execute(select(cursors.c.value).where(cursors.c.source == source)).scalar()

    def set_cursor(self, source: str, value: str | None) -> None:
        """Save the position of ``source``."""
        with self.engine.begin() as conn:
            upsert(conn, cursors, [{"source": source, "value": value, "updated_at": _now()}], ["source"],
                   lambda new: {"value": new.value, "updated_at": new.updated_at})

    # -- handled items -------------------------------------------------------------------------
    def handled_among(self, flow: str, item_ids: Sequence[str]) -> set[str]:
        """Which of ``item_ids`` this flow has already handled."""
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(item_ids), 500):
                chunk = list(item_ids[start:start + 500])
                rows = conn.execute(
                    select(handled.c.item_id).where(handled.c.flow == flow, handled.c.item_id.in_(chunk))
                )
                found.update(row[0] for row in rows)
        return found

    def complete(self, items: Sequence[Decision]) -> None:
        """Record decisions and mark their items handled, atomically (one statement per table)."""
        if not items:
            return
        now = _now()
        with self.engine.begin() as conn:
            rows = [
                {"flow": i.flow, "item_id": i.item_id, "inputs_hash": i.inputs_hash, "classifier": i.classifier,
                 "confidence": i.confidence, "category": i.category, "severity": i.severity, "fields": i.fields,
                 "created_at": now}
                for i in items
            ]
            ids = conn.execute(
                insert(decisions).returning(decisions.c.id, sort_by_parameter_order=True), rows
            ).scalars().all()
            # An upsert, not delete-then-insert: two workers completing one item must not collide.
            latest = {(i.flow, i.item_id): {"flow": i.flow, "item_id": i.item_id, "version": i.version,
                                            "decision_id": decision_id, "handled_at": now}
                      for i, decision_id in zip(items, ids, strict=True)}
            upsert(conn, handled, list(latest.values()), ["flow", "item_id"],
                   lambda new: {"version": new.version, "decision_id": new.decision_id,
                                "handled_at": new.handled_at})

    # -- effects ledger ------------------------------------------------------------------------
    def effects_by_key(self, keys: Iterable[str]) -> dict[str, Effect]:
        """Ledger entries for ``keys`` that exist."""
        wanted = list(keys)
        found: dict[str, Effect] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                rows = conn.execute(select(effects).where(effects.c.key.in_(wanted[start:start + 500])))
                for row in rows.mappings():
                    found[row["key"]] = _effect(row)
        return found

    def plan(self, planned: Sequence[Effect], existing: Iterable[str] | None = None) -> None:
        """Record effects as planned before they are attempted (existing keys count another attempt).

        ``existing`` is accepted for callers that just read the ledger; one upsert settles new and
        known keys alike, also when another worker planned the same key a moment ago.
        """
        if not planned:
            return
        now = _now()
        rows = {e.key: {"key": e.key, "flow": e.flow, "item_id": e.item_id, "kind": e.kind, "target": e.target,
                        "status": EffectStatus.PLANNED.value, "attempts": 0, "created_at": now, "updated_at": now}
                for e in planned}
        with self.engine.begin() as conn:
            upsert(conn, effects, list(rows.values()), ["key"],
                   lambda new: {"attempts": effects.c.attempts + 1, "updated_at": new.updated_at})

    def finish(self, outcomes: Sequence[Effect]) -> None:
        """Record effects as done (with their remote reference) or failed (with the error)."""
        if not outcomes:
            return
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                update(effects).where(effects.c.key == bindparam("k")).values(
                    status=bindparam("st"), remote_ref=bindparam("ref"), error=bindparam("err"),
                    target=bindparam("tg"), updated_at=bindparam("now"),
                ),
                [{"k": e.key, "st": e.status.value, "ref": e.remote_ref, "err": _text(e.error), "tg": e.target,
                  "now": now} for e in outcomes],
            )

    # -- inspection ----------------------------------------------------------------------------
    def item_state(self, item_id: str) -> dict[str, Any]:
        """Everything stored about one item, for `frontline state show`."""
        with self.engine.connect() as conn:
            handled_rows = [dict(r) for r in conn.execute(
                select(handled).where(handled.c.item_id == item_id)).mappings()]
            decision_rows = [dict(r) for r in conn.execute(
                select(decisions).where(decisions.c.item_id == item_id).order_by(decisions.c.id)).mappings()]
            effect_rows = [dict(r) for r in conn.execute(
                select(effects).where(effects.c.item_id == item_id).order_by(effects.c.created_at)).mappings()]
        return {"item_id": item_id, "handled": handled_rows, "decisions": decision_rows, "effects": effect_rows}

    def forget(self, item_id: str, flow: str | None = None) -> int:
        """Forget that an item was handled and queue it, so the next run handles it again.

        Decisions stay as history. Returns how many flows had handled the item.
        """
        now = _now()
        with self.engine.begin() as conn:
            query = select(handled.c.flow).where(handled.c.item_id == item_id)
            if flow:
                query = query.where(handled.c.flow == flow)
            flows = [row[0] for row in conn.execute(query)]
            h = delete(handled).where(handled.c.item_id == item_id)
            e = delete(effects).where(effects.c.item_id == item_id)
            if flow:
                h = h.where(handled.c.flow == flow)
                e = e.where(effects.c.flow == flow)
            conn.execute(h)
            conn.execute(e)
            upsert(conn, requeued, [{"flow": name, "item_id": item_id, "requested_at": now} for name in flows],
                   ["flow", "item_id"], lambda new: {"requested_at": new.requested_at})
        return len(flows)

    def requeued(self, flow: str) -> list[str]:
        """Items queued by `forget` for ``flow``, oldest request first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(requeued.c.item_id).where(requeued.c.flow == flow).order_by(requeued.c.requested_at)
            )
            return [row[0] for row in rows]

    def dequeue(self, flow: str, item_ids: Sequence[str]) -> None:
        """Drop items from the requeue once handled (or gone from the source)."""
        if not item_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(delete(requeued).where(requeued.c.flow == flow, requeued.c.item_id.in_(list(item_ids))))

    def history(self, flow: str, item_ids: Sequence[str]) -> dict[str, tuple[int, str | None]]:
        """For items with any history: (decisions recorded, the handled version or None if not handled now)."""
        found: dict[str, tuple[int, str | None]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(item_ids), 500):
                chunk = list(item_ids[start:start + 500])
                counts: dict[str, int] = dict(conn.execute(
                    select(decisions.c.item_id, func.count()).where(decisions.c.flow == flow,
                                                                    decisions.c.item_id.in_(chunk))
                    .group_by(decisions.c.item_id)).all())
                versions: dict[str, str] = dict(conn.execute(
                    select(handled.c.item_id, handled.c.version).where(handled.c.flow == flow,
                                                                       handled.c.item_id.in_(chunk))).all())
                for item_id in set(counts) | set(versions):
                    found[str(item_id)] = (int(counts.get(item_id, 0)), versions.get(item_id))
        return found

    # -- claims: one worker per item at a time ---------------------------------------------------
    def claim(self, flow: str, item_id: str, owner: str, seconds: float = 300.0) -> bool:
        """Take ``item_id`` for ``owner`` until the lease runs out; False when someone else holds it.

        A webhook and the poller (or two workers) reaching the same conversation at once: only the
        one holding the claim acts; an expired claim (its holder died) is taken over.
        """
        return bool(self.claim_many(flow, [item_id], owner, seconds))

    def claim_many(self, flow: str, item_ids: Sequence[str], owner: str, seconds: float = 300.0) -> set[str]:
        """Take each of ``item_ids`` that is free (or already ``owner``'s, renewed); returns those taken.

        One multi-row ``INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING``: a free item is inserted,
        an expired or own claim is taken over, a live claim of someone else changes nothing. On PostgreSQL a
        second worker racing for the same item waits for the first one's transaction, then sees its
        claim; on SQLite the write lock serialises them.
        """
        now = _now()
        until = now + timedelta(seconds=seconds)
        rows = [{"flow": flow, "item_id": item_id, "owner": owner, "expires_at": until}
                for item_id in dict.fromkeys(item_ids)]
        with self.engine.begin() as conn:
            taken = upsert_returning(conn, claims, rows, ["flow", "item_id"],
                                     lambda new: {"owner": new.owner, "expires_at": new.expires_at},
                                     (claims.c.expires_at < now) | (claims.c.owner == owner), "item_id")
        return {str(item_id) for item_id in taken}

    def release(self, flow: str, item_id: str, owner: str) -> None:
        """Give a claim back."""
        self.release_many(flow, [item_id], owner)

    def claim_or_take_over(self, flow: str, item_ids: Sequence[str], owner: str, seconds: float, *,
                           dead: Callable[[str], bool]) -> set[str]:
        """:meth:`claim_many`, then take over the items whose holder ``dead`` says is gone (killed mid-work)."""
        taken = self.claim_many(flow, item_ids, owner, seconds)
        for item_id in dict.fromkeys(item_ids):
            if item_id in taken:
                continue
            holder = self.holder(flow, item_id)
            if holder is not None and dead(holder):
                self.release(flow, item_id, holder)
                taken |= self.claim_many(flow, [item_id], owner, seconds)
        return taken

    def release_many(self, flow: str, item_ids: Sequence[str], owner: str) -> None:
        """Give back the claims ``owner`` holds on ``item_ids``."""
        if not item_ids:
            return
        with self.engine.begin() as conn:
            for start in range(0, len(item_ids), 500):
                conn.execute(delete(claims).where(claims.c.flow == flow, claims.c.owner == owner,
                                                  claims.c.item_id.in_(list(item_ids[start:start + 500]))))

    def renew_claims(self, flow: str, item_ids: Sequence[str], owner: str, seconds: float) -> int:
        """Extend the claims ``owner`` still holds on ``item_ids`` (a long batch); returns how many."""
        if not item_ids:
            return 0
        until = _now() + timedelta(seconds=seconds)
        renewed = 0
        with self.engine.begin() as conn:
            for start in range(0, len(item_ids), 500):
                renewed += conn.execute(update(claims).where(
                    claims.c.flow == flow, claims.c.owner == owner,
                    claims.c.item_id.in_(list(item_ids[start:start + 500]))).values(expires_at=until)).rowcount
        return renewed

    def holder(self, flow: str, item_id: str) -> str | None:
        """Who holds a live claim on the item, if anyone."""
        with self.engine.connect() as conn:
            return conn.execute(select(claims.c.owner).where(claims.c.flow == flow, claims.c.item_id == item_id,
                                                             claims.c.expires_at >= _now())).scalar()

    # -- watch list: items to read again when a time-based signal becomes due ----------------------
    def watch(self, flow: str, item_id: str, due_at: datetime) -> None:
        """Read ``item_id`` again at ``due_at`` even if nothing about it changes."""
        with self.engine.begin() as conn:
            upsert(conn, watch, [{"flow": flow, "item_id": item_id, "due_at": due_at}], ["flow", "item_id"],
                   lambda new: {"due_at": new.due_at})

    def unwatch(self, flow: str, item_ids: Sequence[str]) -> None:
        """Stop watching items (handled, closed, gone)."""
        if not item_ids:
            return
        with self.engine.begin() as conn:
            for start in range(0, len(item_ids), 500):
                conn.execute(delete(watch).where(watch.c.flow == flow,
                                                 watch.c.item_id.in_(list(item_ids[start:start + 500]))))

    def due(self, flow: str, now: datetime | None = None, limit: int = 500) -> list[str]:
        """Watched items whose time has come, soonest first."""
        return [item_id for item_id, _ in self.due_at(flow, now, limit)]

    def due_at(self, flow: str, now: datetime | None = None, limit: int = 500) -> list[tuple[str, datetime]]:
        """Watched items whose time has come, with the time they were due, soonest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(watch.c.item_id, watch.c.due_at)
                                .where(watch.c.flow == flow, watch.c.due_at <= (now or _now()))
                                .order_by(watch.c.due_at, watch.c.item_id).limit(limit))
            return [(row[0], row[1]) for row in rows]

    def counts(self, flow: str) -> dict[str, int]:
        """How many items are handled and effects are in each state."""
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(handled).where(handled.c.flow == flow)).scalar()
            rows = conn.execute(
                select(effects.c.status, func.count()).where(effects.c.flow == flow).group_by(effects.c.status)
            ).all()
            by_status = {str(status): int(count) for status, count in rows}
        return {"handled": int(total or 0), **by_status}

    # -- decisions read back: the SLA check's due times ------------------------------------------------
    def decisions_after(self, flow: str, after: int, limit: int = 1000) -> list[tuple[int, str, dict[str, Any]]]:
        """``flow``'s decisions recorded after decision number ``after``: (number, item, fields), oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(decisions.c.id, decisions.c.item_id, decisions.c.fields)
                                .where(decisions.c.flow == flow, decisions.c.id > after)
                                .order_by(decisions.c.id).limit(limit))
            return [(int(row[0]), str(row[1]), dict(row[2] or {})) for row in rows]

    def latest_fields(self, flow: str, item_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The fields of the decision each of ``item_ids`` was last handled with by ``flow``."""
        found: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(item_ids), 500):
                chunk = list(item_ids[start:start + 500])
                rows = conn.execute(select(handled.c.item_id, decisions.c.fields)
                                    .join(decisions, decisions.c.id == handled.c.decision_id)
                                    .where(handled.c.flow == flow, handled.c.item_id.in_(chunk)))
                found.update((str(row[0]), dict(row[1] or {})) for row in rows)
        return found

    def latest_decisions(self, flow: str, item_ids: Sequence[str]) -> dict[str, Decided]:
        """The decision each of ``item_ids`` is handled with by ``flow`` now, for those handled."""
        found: dict[str, Decided] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(item_ids), 500):
                chunk = list(item_ids[start:start + 500])
                rows = conn.execute(select(handled.c.item_id, decisions.c.id, decisions.c.category,
                                           decisions.c.severity, decisions.c.fields, decisions.c.created_at)
                                    .join(decisions, decisions.c.id == handled.c.decision_id)
                                    .where(handled.c.flow == flow, handled.c.item_id.in_(chunk)))
                found.update((str(row[0]), Decided(int(row[1]), row[2], row[3], dict(row[4] or {}), row[5]))
                             for row in rows)
        return found

    # -- metrics: read-only counts for /metrics, read at scrape time ------------------------------
    # Counted in the database, not in a process, so they hold across several workers. Plain
    # SQLAlchemy Core (GROUP BY, CASE): the same on SQLite and PostgreSQL.
    def handled_counts(self) -> dict[str, int]:
        """Items handled, by flow."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(handled.c.flow, func.count()).group_by(handled.c.flow)).all()
        return {str(flow): int(count) for flow, count in rows}

    def decision_counts(self) -> list[tuple[str, str | None, str | None, int]]:
        """Decisions recorded, by (flow, category, severity)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(decisions.c.flow, decisions.c.category, decisions.c.severity, func.count())
                                .group_by(decisions.c.flow, decisions.c.category, decisions.c.severity)).all()
        return [(str(flow), category, severity, int(count)) for flow, category, severity, count in rows]

    def effect_counts(self) -> list[tuple[str, str, str, int]]:
        """Ledger entries, by (flow, kind, status)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(effects.c.flow, effects.c.kind, effects.c.status, func.count())
                                .group_by(effects.c.flow, effects.c.kind, effects.c.status)).all()
        return [(str(flow), str(kind), str(status), int(count)) for flow, kind, status, count in rows]

    def inbox_counts(self) -> list[tuple[str, str, str, int]]:
        """Inbox entries not yet done, by (source, flow, state): waiting, or dead after MAX_ATTEMPTS."""
        from sqlalchemy import case

        from frontline.store.inbox import MAX_ATTEMPTS
        from frontline.store.schema import inbox

        state = case((inbox.c.attempts >= MAX_ATTEMPTS, "dead"), else_="waiting").label("state")
        with self.engine.connect() as conn:
            rows = conn.execute(select(inbox.c.source, inbox.c.flow, state, func.count())
                                .where(inbox.c.done_at.is_(None))
                                .group_by(inbox.c.source, inbox.c.flow, state)).all()
        return [(str(source), str(flow), str(st), int(count)) for source, flow, st, count in rows]


def _text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters (SQLite can): a vendor's error message may."""
    return None if value is None else value.replace("\x00", "")


def _effect(row: Any) -> Effect:
    return Effect(
        key=row["key"], flow=row["flow"], item_id=row["item_id"], kind=row["kind"], target=row["target"],
        status=EffectStatus(row["status"]), remote_ref=row["remote_ref"], error=row["error"],
    )


__all__ = ["Decided", "Decision", "SQLAlchemyError", "StateStore", "create_state_engine", "migrate"]
