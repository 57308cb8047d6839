"""The embedded conversation source: Intercom-like conversations in a SQLite file, fed by import.

A conversation is its parts in time order (customer, agent and bot messages, notes, close and open
events) with its contact and company. Notes frontline adds become parts too and move the
conversation's update sequence, as they do in Intercom, so the flow sees its own notes again and
must (and does) skip what it already handled.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from frontline.config import Settings
from frontline.decide.text import html_to_text
from frontline.errors import ConnectorError, NotFoundError
from frontline.model import Author, Company, Conversation, Part, Requester, normalise_id, parse_timestamp
from frontline.ports import Check, Page

from .sqlite import connect, migrate, transaction

SERVICE = "Local conversations"
NOTE_AUTHOR = "frontline"

SCHEMA = [
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'open',
        contact_name TEXT NOT NULL DEFAULT '',
        contact_email TEXT NOT NULL DEFAULT '',
        company TEXT,
        plan TEXT,
        mrr REAL,
        lifecycle TEXT,
        created_at TEXT,
        updated_at TEXT,
        label TEXT
    );
    CREATE INDEX ix_conversations_seq ON conversations(seq);
    CREATE TABLE parts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations(id),
        author TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        author_name TEXT NOT NULL DEFAULT '',
        marker TEXT,
        created_at TEXT
    );
    CREATE INDEX ix_parts_conversation ON parts(conversation_id, id);
    CREATE UNIQUE INDEX ix_parts_marker ON parts(conversation_id, marker) WHERE marker IS NOT NULL
    """,
]
AUTHORS = {"customer": Author.CUSTOMER, "user": Author.CUSTOMER, "contact": Author.CUSTOMER, "lead": Author.CUSTOMER,
           "agent": Author.AGENT, "admin": Author.AGENT, "team": Author.AGENT, "bot": Author.BOT}
KINDS = {"comment", "note", "open", "close", "assignment", "other"}
STATES = {"open", "closed", "snoozed"}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _time(value: Any, name: str) -> str | None:
    if value in (None, ""):
        return None
    parsed = parse_timestamp(str(value))
    if parsed is None:
        raise ValueError(f"has {name} {str(value)[:40]!r}, which is not an ISO 8601 time")
    try:
        return parsed.astimezone(UTC).isoformat()
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError(f"has {name} {str(value)[:40]!r}, outside the years 1 to 9999 in UTC") from None


def normalise_conversation(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one imported conversation (nested or flat contact/company); raises ValueError saying why."""
    if raw.get("id") in (None, ""):
        raise ValueError("has no id")
    conversation_id = normalise_id(raw["id"])
    contact: Mapping[str, Any] = raw["contact"] if isinstance(raw.get("contact"), Mapping) else {}
    company: Mapping[str, Any] = raw["company"] if isinstance(raw.get("company"), Mapping) else {}
    parts_in = raw.get("parts")
    if not isinstance(parts_in, list) or not parts_in:
        raise ValueError(f"has no parts (conversation {conversation_id})")
    parts = []
    for index, part in enumerate(parts_in, start=1):
        if not isinstance(part, Mapping):
            raise ValueError(f"has a part {index} that is not an object")
        author = str(part.get("author") or "").lower()
        kind = str(part.get("kind") or "comment").lower()
        if author not in AUTHORS:
            raise ValueError(f"has part {index} by author {author!r}; use customer, agent or bot")
        if kind not in KINDS:
            raise ValueError(f"has part {index} of kind {kind!r}; use one of {', '.join(sorted(KINDS))}")
        parts.append({"author": author, "kind": kind, "body": html_to_text(str(part.get("body") or "")),
                      "author_name": str(part.get("author_name") or ""),
                      "created_at": _time(part.get("created_at"), f"part {index} created_at")})
    state = str(raw.get("state") or "open").lower()
    if state not in STATES:
        raise ValueError(f"has state {state!r}, not one of {', '.join(sorted(STATES))}")
    mrr = raw.get("mrr", company.get("mrr"))
    try:
        mrr_value = None if mrr in (None, "") else float(mrr)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"has mrr {str(mrr)[:40]!r}, which is not a number") from None
    if mrr_value is not None and not (math.isfinite(mrr_value) and mrr_value >= 0):
        raise ValueError(f"has mrr {str(mrr)[:40]!r}; it must be a non-negative number")
    created = _time(raw.get("created_at"), "created_at") or parts[0]["created_at"] or _now()
    company_name = raw.get("company") if isinstance(raw.get("company"), str) else company.get("name")
    label = raw.get("label")
    return {
        "id": conversation_id, "title": str(raw.get("title") or ""), "state": state,
        "contact_name": str(contact.get("name") or raw.get("contact_name") or ""),
        "contact_email": str(contact.get("email") or raw.get("contact_email") or ""),
        "company": company_name or None, "plan": (raw.get("plan") or company.get("plan") or None),
        "mrr": mrr_value, "lifecycle": raw.get("lifecycle") or company.get("lifecycle") or None,
        "created_at": created,
        "updated_at": _time(raw.get("updated_at"), "updated_at") or parts[-1]["created_at"] or created,
        "label": json.dumps(label) if label is not None else None, "parts": parts,
    }


class LocalConversations:
    """Conversations in SQLite, read like Intercom's: changed since a cursor, with notes added back."""

    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection = connect(path)
        migrate(self._db, SCHEMA)

    @classmethod
    def from_settings(cls, settings: Settings, **_: Any) -> LocalConversations:
        """The conversations file in the workspace."""
        return cls(settings.path("conversations.db"))

    # -- reading -------------------------------------------------------------------------------
    def _conversation(self, row: sqlite3.Row) -> Conversation:
        parts = tuple(
            Part(AUTHORS[p["author"]], p["body"], parse_timestamp(p["created_at"]), p["kind"], p["author_name"])
            for p in self._db.execute("SELECT * FROM parts WHERE conversation_id = ? ORDER BY id", (row["id"],))
        )
        company = None
        note = ""
        if row["company"] or row["plan"] or row["mrr"] is not None:
            company = Company(row["company"] or "", row["plan"], row["mrr"], row["lifecycle"])
        else:
            note = "the contact has no company"
        return Conversation(
            id=row["id"], title=row["title"], parts=parts,
            contact=Requester(row["contact_name"], row["contact_email"]), company=company, state=row["state"],
            created_at=parse_timestamp(row["created_at"]), updated_at=parse_timestamp(row["updated_at"]),
            reopened=_reopened(parts), url=self.path.resolve().as_uri() + f"#conversation-{row['id']}",
            source=self.name, company_note=note,
        )

    async def list_changed(self, cursor: str | None, limit: int) -> Page[Conversation]:
        """Conversations imported or changed after ``cursor`` (a sequence number), oldest change first."""
        after = int(cursor) if cursor and cursor.isdigit() else 0
        rows = self._db.execute("SELECT * FROM conversations WHERE seq > ? ORDER BY seq LIMIT ?",
                                (after, limit + 1)).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = str(rows[-1]["seq"]) if rows else cursor
        return Page(items=[self._conversation(r) for r in rows], cursor=next_cursor, has_more=more)

    def count_changed(self, cursor: str | None) -> int:
        """How many conversations changed after ``cursor`` (for progress bars)."""
        after = int(cursor) if cursor and cursor.isdigit() else 0
        return int(self._db.execute("SELECT COUNT(*) FROM conversations WHERE seq > ?", (after,)).fetchone()[0])

    async def get(self, conversation_id: str) -> Conversation:
        """One conversation by id."""
        row = self._db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        if row is None:
            raise NotFoundError(SERVICE, f"no conversation {conversation_id} in {self.path}",
                                hint="Import it with `frontline import conversations FILE`")
        return self._conversation(row)

    def labels(self) -> dict[str, Any]:
        """The ground truth an import carried (demo data), by conversation id."""
        rows = self._db.execute("SELECT id, label FROM conversations WHERE label IS NOT NULL")
        return {r["id"]: json.loads(r["label"]) for r in rows}

    # -- writing -------------------------------------------------------------------------------
    def upsert(self, records: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
        """Insert or replace conversations as :func:`normalise_conversation` returns them; (created, updated)."""
        created = updated = 0
        db = self._db
        with transaction(db):
            seq = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM conversations").fetchone()[0])
            for raw in records:
                record = dict(raw)
                parts = record.pop("parts")
                seq += 1
                exists = db.execute("SELECT 1 FROM conversations WHERE id = ?", (record["id"],)).fetchone()
                if exists:
                    db.execute("DELETE FROM parts WHERE conversation_id = ? AND marker IS NULL", (record["id"],))
                    db.execute("DELETE FROM conversations WHERE id = ?", (record["id"],))
                    updated += 1
                else:
                    created += 1
                columns = ", ".join(record)
                values = ", ".join(f":{column}" for column in record)
                db.execute(f"INSERT INTO conversations (seq, {columns}) VALUES (:seq, {values})",
                           {**record, "seq": seq})
                db.executemany(
                    "INSERT INTO parts (conversation_id, author, kind, body, author_name, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(record["id"], p["author"], p["kind"], p["body"], p["author_name"], p["created_at"])
                     for p in parts],
                )
        return created, updated

    async def add_note(self, conversation_id: str, body: str, marker: str) -> str:
        """Append a private note part; a note already carrying ``marker`` is not added twice."""
        db = self._db
        now = _now()
        try:
            with transaction(db):
                found = db.execute("SELECT id FROM parts WHERE conversation_id = ? AND marker = ?",
                                   (conversation_id, marker)).fetchone()
                if found is not None:
                    return f"part:{found['id']}"
                if db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone() is None:
                    raise NotFoundError(SERVICE, f"no conversation {conversation_id} in {self.path}")
                cursor = db.execute(
                    "INSERT INTO parts (conversation_id, author, kind, body, author_name, marker, created_at) "
                    "VALUES (?, 'agent', 'note', ?, ?, ?, ?)", (conversation_id, body, NOTE_AUTHOR, marker, now))
                seq = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM conversations").fetchone()[0]) + 1
                db.execute("UPDATE conversations SET seq = ?, updated_at = ? WHERE id = ?",
                           (seq, now, conversation_id))
        except sqlite3.Error as exc:
            raise ConnectorError(SERVICE, f"the note could not be written to {self.path}: {exc}") from None
        return f"part:{cursor.lastrowid}"

    async def find_note(self, conversation_id: str, marker: str) -> str | None:
        """The note part carrying ``marker``, if any."""
        row = self._db.execute("SELECT id FROM parts WHERE conversation_id = ? AND marker = ?",
                               (conversation_id, marker)).fetchone()
        return f"part:{row['id']}" if row else None

    def notes(self, conversation_id: str) -> list[str]:
        """The bodies of frontline's notes on a conversation (for tests and the demo)."""
        rows = self._db.execute("SELECT body FROM parts WHERE conversation_id = ? AND kind = 'note' AND marker IS NOT "
                                "NULL ORDER BY id", (conversation_id,))
        return [r["body"] for r in rows]

    async def diagnose(self) -> list[Check]:
        """How many conversations the embedded source holds."""
        total = int(self._db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0])
        if not total:
            return [Check("conversations local", True, f"{self.path} holds no conversations yet",
                          "Import some with `frontline import conversations FILE`")]
        open_now = int(self._db.execute("SELECT COUNT(*) FROM conversations WHERE state != 'closed'").fetchone()[0])
        return [Check("conversations local", True, f"ACTIVE: {total} conversations in {self.path}, {open_now} open")]

    async def aclose(self) -> None:
        """Close the file."""
        self._db.close()


def _reopened(parts: tuple[Part, ...]) -> int:
    """How many times the conversation was opened again after being closed."""
    count = 0
    closed = False
    for part in parts:
        if part.kind == "close":
            closed = True
        elif part.kind == "open" and closed:
            count += 1
            closed = False
    return count
