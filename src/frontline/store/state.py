"""The state store: cursors, handled items, decisions and the effects ledger."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, bindparam, create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from frontline.errors import StateError
from frontline.model import Effect, EffectStatus
from frontline.store.schema import claims, cursors, decisions, effects, handled, requeued, watch

MIGRATIONS = str(Path(__file__).with_name("migrations"))


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


def _prepare_sqlite_file(url: str) -> None:
    """Create the SQLite file and its folder readable by the owner only."""
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:":
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def create_state_engine(url: str) -> Engine:
    """An engine tuned for the backend: WAL and a busy timeout on SQLite."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        from frontline.errors import ExtraMissingError

        raise ExtraMissingError("postgres", exc.name or "a database driver") from None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (no-op when current)."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        with engine.begin() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if current == head:
                return
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise StateError(f"Cannot open the state store at {engine.url!r}: {exc.orig}. "
                         "Check FRONTLINE_DATABASE_URL or the workspace folder's permissions.") from None


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
            changed = conn.execute(
                update(cursors).where(cursors.c.source == source).values(value=value, updated_at=_now())
            ).rowcount
            if not changed:
                conn.execute(insert(cursors).values(source=source, value=value, updated_at=_now()))

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
            for flow in {i.flow for i in items}:
                names = [i.item_id for i in items if i.flow == flow]
                for start in range(0, len(names), 500):
                    conn.execute(delete(handled).where(handled.c.flow == flow,
                                                       handled.c.item_id.in_(names[start:start + 500])))
            conn.execute(insert(handled), [
                {"flow": i.flow, "item_id": i.item_id, "version": i.version, "decision_id": decision_id,
                 "handled_at": now}
                for i, decision_id in zip(items, ids, strict=True)
            ])

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

        ``existing``: the keys already in the ledger, when the caller just read them.
        """
        if not planned:
            return
        known = set(existing) if existing is not None else set(self.effects_by_key(e.key for e in planned))
        now = _now()
        fresh = [
            {"key": e.key, "flow": e.flow, "item_id": e.item_id, "kind": e.kind, "target": e.target,
             "status": EffectStatus.PLANNED.value, "attempts": 0, "created_at": now, "updated_at": now}
            for e in planned if e.key not in known
        ]
        attempted = [{"k": e.key, "now": now} for e in planned if e.key in known]
        with self.engine.begin() as conn:
            if fresh:
                conn.execute(insert(effects), fresh)
            if attempted:
                conn.execute(
                    update(effects).where(effects.c.key == bindparam("k"))
                    .values(attempts=effects.c.attempts + 1, updated_at=bindparam("now")),
                    attempted,
                )

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
                [{"k": e.key, "st": e.status.value, "ref": e.remote_ref, "err": e.error, "tg": e.target, "now": now}
                 for e in outcomes],
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
            for name in flows:
                conn.execute(delete(requeued).where(requeued.c.flow == name, requeued.c.item_id == item_id))
                conn.execute(insert(requeued).values(flow=name, item_id=item_id, requested_at=now))
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
        now = _now()
        until = now + timedelta(seconds=seconds)
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(claims).where(claims.c.flow == flow, claims.c.item_id == item_id,
                                     (claims.c.expires_at < now) | (claims.c.owner == owner))
                .values(owner=owner, expires_at=until)
            ).rowcount
            if taken:
                return True
            try:
                with conn.begin_nested():
                    conn.execute(insert(claims).values(flow=flow, item_id=item_id, owner=owner, expires_at=until))
            except IntegrityError:
                return False
            return True

    def release(self, flow: str, item_id: str, owner: str) -> None:
        """Give a claim back."""
        with self.engine.begin() as conn:
            conn.execute(delete(claims).where(claims.c.flow == flow, claims.c.item_id == item_id,
                                              claims.c.owner == owner))

    # -- watch list: items to read again when a time-based signal becomes due ----------------------
    def watch(self, flow: str, item_id: str, due_at: datetime) -> None:
        """Read ``item_id`` again at ``due_at`` even if nothing about it changes."""
        with self.engine.begin() as conn:
            changed = conn.execute(update(watch).where(watch.c.flow == flow, watch.c.item_id == item_id)
                                   .values(due_at=due_at)).rowcount
            if not changed:
                conn.execute(insert(watch).values(flow=flow, item_id=item_id, due_at=due_at))

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
        with self.engine.connect() as conn:
            rows = conn.execute(select(watch.c.item_id).where(watch.c.flow == flow, watch.c.due_at <= (now or _now()))
                                .order_by(watch.c.due_at).limit(limit))
            return [row[0] for row in rows]

    def counts(self, flow: str) -> dict[str, int]:
        """How many items are handled and effects are in each state."""
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(handled).where(handled.c.flow == flow)).scalar()
            rows = conn.execute(
                select(effects.c.status, func.count()).where(effects.c.flow == flow).group_by(effects.c.status)
            ).all()
            by_status = {str(status): int(count) for status, count in rows}
        return {"handled": int(total or 0), **by_status}


def _effect(row: Any) -> Effect:
    return Effect(
        key=row["key"], flow=row["flow"], item_id=row["item_id"], kind=row["kind"], target=row["target"],
        status=EffectStatus(row["status"]), remote_ref=row["remote_ref"], error=row["error"],
    )


__all__ = ["Decision", "SQLAlchemyError", "StateStore", "create_state_engine", "migrate"]
