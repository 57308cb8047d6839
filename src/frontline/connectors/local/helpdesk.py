"""The embedded helpdesk: tickets in a SQLite file, fed by import (and later POST /tickets)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from frontline.config import Settings
from frontline.errors import ConnectorError, NotFoundError
from frontline.model import Author, Company, Message, Requester, Ticket, WriteBack, normalise_id, parse_timestamp
from frontline.ports import Check, Page, WriteResult

from .sqlite import Upserted, connect, migrate, transaction

SERVICE = "Local helpdesk"

SCHEMA = [
    """
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        requester_name TEXT NOT NULL DEFAULT '',
        requester_email TEXT NOT NULL DEFAULT '',
        company TEXT,
        plan TEXT,
        mrr REAL,
        tags TEXT NOT NULL DEFAULT '[]',
        priority TEXT,
        status TEXT NOT NULL DEFAULT 'new',
        category TEXT,
        severity TEXT,
        created_at TEXT,
        updated_at TEXT
    );
    CREATE INDEX ix_tickets_seq ON tickets(seq);
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        body TEXT NOT NULL,
        marker TEXT,
        public INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX ix_notes_marker ON notes(ticket_id, marker)
    """,
    # The customer's side of each ticket as last imported (JSON), so a re-import tells what the
    # customer changed apart from what frontline wrote since (tags, priority, status).
    "ALTER TABLE tickets ADD COLUMN imported TEXT",
    # The ticket's public thread after its description: messages by the customer or an agent (notes
    # frontline writes have no author and are private).
    "ALTER TABLE notes ADD COLUMN author TEXT",
]

OPEN_STATUSES = ("new", "open")
TICKET_FIELDS = (
    "subject", "description", "requester_name", "requester_email", "company", "plan", "mrr",
    "tags", "priority", "status", "category", "severity", "created_at", "updated_at",
)
# Fields a row may leave out; the stored value then stays (a new ticket gets a default).
OPTIONAL_FIELDS = ("priority", "status", "created_at", "updated_at")
TEXT_FIELDS = ("subject", "description", "requester_name", "requester_email")
_STORE = (
    f"INSERT INTO tickets (id, seq, imported, {', '.join(TICKET_FIELDS)}) "
    f"VALUES (:id, :seq, :imported, {', '.join(f':{name}' for name in TICKET_FIELDS)}) "
    "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, imported = excluded.imported, "
    + ", ".join(f"{name} = excluded.{name}" for name in TICKET_FIELDS)
)


def _customer_side(record: dict[str, Any]) -> dict[str, Any]:
    """The ticket fields a record gives, None where it gives none, in the shape JSON gives back."""
    side = {name: record.get(name) for name in TICKET_FIELDS}
    side.update({name: side[name] or "" for name in TEXT_FIELDS})
    side.update({name: side[name] or None for name in OPTIONAL_FIELDS})
    side["tags"] = list(dict.fromkeys(record.get("tags") or []))
    loaded: dict[str, Any] = json.loads(json.dumps(side))
    return loaded


def _merge(stored: dict[str, Any], theirs: dict[str, Any], base: dict[str, Any] | None) -> dict[str, Any]:
    """Apply what the customer changed to a stored ticket, keeping what frontline wrote.

    ``base`` is the customer's side as last imported: a field the import leaves as it was keeps the
    stored value (a priority triage set survives a file still saying "normal"); without a base
    (tickets imported before it was kept), every field the row gives wins. Tags are a union.
    """
    merged: dict[str, Any] = {}
    for name in TICKET_FIELDS:
        value = theirs[name]
        if name == "tags":
            merged[name] = stored[name] + [tag for tag in value if tag not in stored[name]]
        elif (value is None and name in OPTIONAL_FIELDS) or (base is not None and value == base.get(name)):
            merged[name] = stored[name]
        else:
            merged[name] = value
    return merged


class LocalHelpdesk:
    """A real, single-machine helpdesk in SQLite."""

    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.field_templates: dict[str, str] = {}  # nothing beyond `writeback.custom_fields`
        self._db: sqlite3.Connection = connect(path)
        migrate(self._db, SCHEMA)

    @classmethod
    def from_settings(cls, settings: Settings, **_: Any) -> LocalHelpdesk:
        """Open the helpdesk file in the workspace."""
        return cls(settings.path("helpdesk.db"))

    # -- reading -------------------------------------------------------------------------------
    def _threads(self, ticket_ids: Sequence[str]) -> dict[str, list[Message]]:
        """The public messages after each ticket's description, oldest first, in one query."""
        found: dict[str, list[Message]] = {}
        for start in range(0, len(ticket_ids), 500):
            chunk = list(ticket_ids[start:start + 500])
            rows = self._db.execute(
                f"SELECT ticket_id, author, body, created_at FROM notes WHERE author IS NOT NULL AND public = 1 "
                f"AND ticket_id IN ({', '.join('?' * len(chunk))}) ORDER BY id", chunk)
            for row in rows:
                author = Author.CUSTOMER if row["author"] == Author.CUSTOMER else Author.AGENT
                found.setdefault(row["ticket_id"], []).append(
                    Message(author, row["body"], parse_timestamp(row["created_at"])))
        return found

    def _ticket(self, row: sqlite3.Row, thread: Sequence[Message] = ()) -> Ticket:
        company = None
        if row["company"] or row["plan"] or row["mrr"] is not None:
            company = Company(name=row["company"] or "", plan=row["plan"], mrr=row["mrr"])
        created = parse_timestamp(row["created_at"])
        return Ticket(
            id=row["id"],
            subject=row["subject"],
            description=row["description"],
            requester=Requester(name=row["requester_name"], email=row["requester_email"]),
            company=company,
            messages=(Message(Author.CUSTOMER, row["description"], created), *thread),
            tags=tuple(json.loads(row["tags"])),
            priority=row["priority"],
            status=row["status"],
            created_at=created,
            updated_at=parse_timestamp(row["updated_at"]),
            source=self.name,
        )

    async def list_changed(self, cursor: str | None, limit: int) -> Page[Ticket]:
        """New and open tickets imported or changed after ``cursor`` (a sequence number)."""
        after = int(cursor) if cursor and cursor.isdigit() else 0
        rows = self._db.execute(
            "SELECT * FROM tickets WHERE seq > ? AND status IN ('new', 'open') ORDER BY seq LIMIT ?",
            (after, limit + 1),
        ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = str(rows[-1]["seq"]) if rows else cursor
        if not more and rows:
            # Skipped closed tickets still advance the cursor so they are not re-read.
            top = self._db.execute("SELECT MAX(seq) FROM tickets").fetchone()[0]
            next_cursor = str(max(int(next_cursor or 0), int(top or 0)))
        threads = self._threads([r["id"] for r in rows])
        return Page(items=[self._ticket(r, threads.get(r["id"], ())) for r in rows], cursor=next_cursor,
                    has_more=more)

    async def diagnose(self) -> list[Check]:
        """How many tickets the embedded helpdesk holds and how many are waiting."""
        total = int(self._db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])
        waiting = self.count_changed(None)
        if not total:
            return [Check("helpdesk local", True, f"{self.path} holds no tickets yet",
                          "Import some with `frontline import tickets FILE`")]
        return [Check("helpdesk local", True, f"ACTIVE: {total} tickets in {self.path}, {waiting} new or open")]

    def count_changed(self, cursor: str | None) -> int:
        """How many open tickets are after ``cursor`` (for progress bars)."""
        after = int(cursor) if cursor and cursor.isdigit() else 0
        return int(self._db.execute(
            "SELECT COUNT(*) FROM tickets WHERE seq > ? AND status IN ('new', 'open')", (after,)
        ).fetchone()[0])

    async def get(self, ticket_id: str) -> Ticket:
        """One ticket by id."""
        row = self._db.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise NotFoundError(SERVICE, f"no ticket {ticket_id} in {self.path}",
                                hint="Import it with `frontline import tickets FILE`")
        return self._ticket(row, self._threads([ticket_id]).get(ticket_id, ()))

    def notes(self, ticket_id: str) -> list[dict[str, Any]]:
        """Private notes on a ticket (frontline's), oldest first."""
        rows = self._db.execute(
            "SELECT id, body, marker, public, created_at FROM notes WHERE ticket_id = ? AND author IS NULL "
            "ORDER BY id", (ticket_id,)
        )
        return [dict(r) for r in rows]

    def labelled(self) -> list[tuple[str, str, str | None]]:
        """(text, category, severity) of every ticket carrying a category label, for training."""
        rows = self._db.execute(
            "SELECT subject, description, category, severity FROM tickets "
            "WHERE category IS NOT NULL AND category != ''"
        )
        return [(f"{r['subject']}\n{r['description']}", r["category"], r["severity"] or None) for r in rows]

    # -- writing -------------------------------------------------------------------------------
    def upsert(self, records: Iterable[dict[str, Any]]) -> Upserted:
        """Insert or update tickets in one transaction; how many were created, updated and unchanged.

        An update changes the customer's content only: tags frontline added stay (the file's are
        added to them), priority and status change only when the file changes them, and notes are
        never touched. A record's ``messages`` (the public thread after the description: author
        ``customer`` or ``agent``, body, created_at) are added once each. A changed ticket, or one
        with a new message, gets a new sequence number, so it is listed again; an unchanged one is
        left exactly as it was.
        """
        created = updated = unchanged = 0
        db = self._db
        with transaction(db):
            seq = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM tickets").fetchone()[0])
            for raw in records:
                ticket_id = normalise_id(raw["id"])
                theirs = _customer_side(raw)
                snapshot = json.dumps(theirs, sort_keys=True)
                row = db.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
                now = datetime.now(UTC).isoformat()
                fresh = self._fresh(ticket_id, raw.get("messages") or ())
                if row is None:
                    values = {**theirs, "status": theirs["status"] or "new",
                              "created_at": theirs["created_at"] or now}
                    values["updated_at"] = values["updated_at"] or values["created_at"]
                    created += 1
                else:
                    stored = {name: row[name] for name in TICKET_FIELDS} | {"tags": json.loads(row["tags"])}
                    base = json.loads(row["imported"]) if row["imported"] else None
                    values = _merge(stored, theirs, base)
                    same = (theirs == base) if base is not None else (values == stored)
                    if same and not fresh:
                        unchanged += 1
                        if base is None:  # remember the customer's side, for the next import to compare with
                            db.execute("UPDATE tickets SET imported = ? WHERE id = ?", (snapshot, ticket_id))
                        continue
                    # Only a new message: the ticket changed now, whatever time the file still gives.
                    values["updated_at"] = now if same else theirs["updated_at"] or now
                    updated += 1
                seq += 1
                values["tags"] = json.dumps(values["tags"])
                db.execute(_STORE, {**values, "id": ticket_id, "seq": seq, "imported": snapshot})
                db.executemany(
                    "INSERT INTO notes (ticket_id, body, marker, public, created_at, author) "
                    "VALUES (?, ?, NULL, 1, ?, ?)",
                    [(ticket_id, m["body"], m.get("created_at") or now, m["author"]) for m in fresh])
        return Upserted(created, updated, unchanged)

    def _fresh(self, ticket_id: str, messages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Those of ``messages`` not stored yet: one is known by author and body (and its time, when given)."""
        fresh: list[dict[str, Any]] = []
        for message in messages:
            query = "SELECT 1 FROM notes WHERE ticket_id = ? AND author = ? AND body = ?"
            args: list[Any] = [ticket_id, message["author"], message["body"]]
            if message.get("created_at"):
                query, args = query + " AND created_at = ?", [*args, message["created_at"]]
            if self._db.execute(query, args).fetchone() is None and message not in fresh:
                fresh.append(message)
        return fresh

    async def write_back(self, updates: Sequence[WriteBack]) -> list[WriteResult]:
        """Add tags (keeping existing ones), set priority, add a private note, per ticket atomically.

        A note whose marker is already on the ticket is not added twice, so a retried
        write-back after a crash is harmless.
        """
        results: list[WriteResult] = []
        db = self._db
        now = datetime.now(UTC).isoformat()
        try:
            with transaction(db):
                for wb in updates:
                    row = db.execute("SELECT tags FROM tickets WHERE id = ?", (wb.ticket_id,)).fetchone()
                    if row is None:
                        results.append(WriteResult(wb.ticket_id, error=NotFoundError(
                            SERVICE, f"ticket {wb.ticket_id} disappeared before write-back")))
                        continue
                    existing = db.execute(
                        "SELECT id FROM notes WHERE ticket_id = ? AND marker = ?", (wb.ticket_id, wb.marker)
                    ).fetchone()
                    if existing:
                        results.append(WriteResult(wb.ticket_id, remote_ref=f"note:{existing['id']}"))
                        continue
                    tags = [t for t in json.loads(row["tags"]) if t not in wb.remove_tags]
                    tags.extend(t for t in dict.fromkeys(wb.add_tags) if t not in tags)
                    db.execute(
                        "UPDATE tickets SET tags = ?, priority = COALESCE(?, priority), status = "
                        "CASE WHEN status = 'new' THEN 'open' ELSE status END WHERE id = ?",
                        (json.dumps(tags), wb.priority, wb.ticket_id),
                    )
                    cursor = db.execute(
                        "INSERT INTO notes (ticket_id, body, marker, public, created_at) VALUES (?, ?, ?, 0, ?)",
                        (wb.ticket_id, wb.note, wb.marker, now),
                    )
                    results.append(WriteResult(wb.ticket_id, remote_ref=f"note:{cursor.lastrowid}"))
        except sqlite3.Error as exc:
            raise ConnectorError(SERVICE, f"write-back failed in {self.path}: {exc}") from None
        return results

    async def find_marker(self, ticket_id: str, marker: str) -> str | None:
        """The note reference carrying ``marker`` on this ticket, if any."""
        row = self._db.execute(
            "SELECT id FROM notes WHERE ticket_id = ? AND marker = ?", (ticket_id, marker)
        ).fetchone()
        return f"note:{row['id']}" if row else None

    async def aclose(self) -> None:
        """Close the file."""
        self._db.close()
