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

from .sqlite import connect, migrate, transaction

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
]

OPEN_STATUSES = ("new", "open")
TICKET_FIELDS = (
    "subject", "description", "requester_name", "requester_email", "company", "plan", "mrr",
    "tags", "priority", "status", "category", "severity", "created_at", "updated_at",
)


class LocalHelpdesk:
    """A real, single-machine helpdesk in SQLite."""

    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection = connect(path)
        migrate(self._db, SCHEMA)

    @classmethod
    def from_settings(cls, settings: Settings, **_: Any) -> LocalHelpdesk:
        """Open the helpdesk file in the workspace."""
        return cls(settings.path("helpdesk.db"))

    # -- reading -------------------------------------------------------------------------------
    def _ticket(self, row: sqlite3.Row) -> Ticket:
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
            messages=(Message(Author.CUSTOMER, row["description"], created),),
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
        return Page(items=[self._ticket(r) for r in rows], cursor=next_cursor, has_more=more)

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
        return self._ticket(row)

    def notes(self, ticket_id: str) -> list[dict[str, Any]]:
        """Private notes on a ticket, oldest first."""
        rows = self._db.execute(
            "SELECT id, body, marker, public, created_at FROM notes WHERE ticket_id = ? ORDER BY id", (ticket_id,)
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
    def upsert(self, records: Iterable[dict[str, Any]]) -> tuple[int, int]:
        """Insert or update tickets in one transaction; returns (created, updated)."""
        created = updated = 0
        db = self._db
        with transaction(db):
            seq = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM tickets").fetchone()[0])
            for raw in records:
                record = {**raw, "id": normalise_id(raw["id"])}
                seq += 1
                values = {field: record.get(field) for field in TICKET_FIELDS}
                values["tags"] = json.dumps(list(record.get("tags") or []))
                values["status"] = values["status"] or "new"
                values["subject"] = values["subject"] or ""
                values["description"] = values["description"] or ""
                values["requester_name"] = values["requester_name"] or ""
                values["requester_email"] = values["requester_email"] or ""
                now = datetime.now(UTC).isoformat()
                values["created_at"] = values["created_at"] or now
                values["updated_at"] = values["updated_at"] or values["created_at"]
                exists = db.execute("SELECT 1 FROM tickets WHERE id = ?", (record["id"],)).fetchone()
                if exists:
                    assignments = ", ".join(f"{f} = :{f}" for f in TICKET_FIELDS)
                    db.execute(f"UPDATE tickets SET {assignments}, seq = :seq WHERE id = :id",
                               {**values, "seq": seq, "id": record["id"]})
                    updated += 1
                else:
                    columns = ", ".join(TICKET_FIELDS)
                    params = ", ".join(f":{f}" for f in TICKET_FIELDS)
                    db.execute(f"INSERT INTO tickets (id, seq, {columns}) VALUES (:id, :seq, {params})",
                               {**values, "seq": seq, "id": record["id"]})
                    created += 1
        return created, updated

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
                    tags = list(json.loads(row["tags"]))
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
