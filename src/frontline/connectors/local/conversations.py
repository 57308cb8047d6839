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
from frontline.errors import ConnectorError, NotFoundError
from frontline.model import Author, Company, Conversation, Part, Requester, parse_timestamp
from frontline.ports import Check, Page

from .bodies import body_format, body_text, check_storable, checked_id
from .sqlite import Upserted, connect, migrate, transaction

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
FIELDS = ("title", "state", "contact_name", "contact_email", "company", "plan", "mrr", "lifecycle", "created_at",
          "updated_at", "label")
PART_FIELDS = ("author", "kind", "body", "author_name", "created_at")
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
    check_storable(raw)
    if raw.get("id") in (None, ""):
        raise ValueError("has no id")
    conversation_id = checked_id(raw["id"])
    contact: Mapping[str, Any] = raw["contact"] if isinstance(raw.get("contact"), Mapping) else {}
    company: Mapping[str, Any] = raw["company"] if isinstance(raw.get("company"), Mapping) else {}
    parts_in = raw.get("parts")
    if not isinstance(parts_in, list) or not parts_in:
        raise ValueError(f"has no parts (conversation {conversation_id})")
    # Bodies are plain text as written unless the conversation or the part says "format": "html".
    default_format = _format(raw, "format")
    parts = []
    for index, part in enumerate(parts_in, start=1):
        if not isinstance(part, Mapping):
            raise ValueError(f"has a part {index} that is not an object")
        given = _format(part, f"part {index} format")
        form = given if _hint(part) not in (None, "") else default_format
        author = str(part.get("author") or "").lower()
        kind = str(part.get("kind") or "comment").lower()
        if author not in AUTHORS:
            raise ValueError(f"has part {index} by author {author!r}; use customer, agent or bot")
        if kind not in KINDS:
            raise ValueError(f"has part {index} of kind {kind!r}; use one of {', '.join(sorted(KINDS))}")
        parts.append({"author": author, "kind": kind, "body": body_text(part.get("body"), form),
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
    # No time at all stays None: the store dates a new conversation on arrival and keeps that date
    # when the same file is imported again (so the conversation is not taken for a changed one).
    created = _time(raw.get("created_at"), "created_at") or parts[0]["created_at"]
    company_name = raw.get("company") if isinstance(raw.get("company"), str) else company.get("name")
    label = raw.get("label")
    return {
        "id": conversation_id, "title": str(raw.get("title") or "").replace("\x00", ""), "state": state,
        "contact_name": str(contact.get("name") or raw.get("contact_name") or ""),
        "contact_email": str(contact.get("email") or raw.get("contact_email") or ""),
        "company": company_name or None, "plan": (raw.get("plan") or company.get("plan") or None),
        "mrr": mrr_value, "lifecycle": raw.get("lifecycle") or company.get("lifecycle") or None,
        "created_at": created,
        "updated_at": _time(raw.get("updated_at"), "updated_at") or parts[-1]["created_at"] or created,
        "label": json.dumps(label) if label is not None else None, "parts": parts,
    }


def _hint(raw: Mapping[str, Any]) -> Any:
    return raw.get("format", raw.get("content_type"))


def _format(raw: Mapping[str, Any], name: str) -> str:
    hint = _hint(raw)
    try:
        return body_format(hint)
    except ValueError:
        raise ValueError(f"has {name} {str(hint)[:40]!r}, which is not html or text (leave it out for plain text)"
                         ) from None


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
    def upsert(self, records: Iterable[Mapping[str, Any]]) -> Upserted:
        """Insert or update conversations as :func:`normalise_conversation` returns them, in one transaction.

        An unchanged conversation is left exactly as it is. A changed one is updated in place and gets
        a new sequence number, so it is listed again: its imported parts position by position (new
        ones appended), while the notes frontline added are never touched and stay where they were
        written in the thread.
        """
        created = updated = unchanged = 0
        db = self._db
        with transaction(db):
            seq = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM conversations").fetchone()[0])
            for raw in records:
                fields = {name: raw.get(name) for name in FIELDS}
                parts = [tuple(part.get(name) for name in PART_FIELDS) for part in raw["parts"]]
                row = db.execute("SELECT * FROM conversations WHERE id = ?", (raw["id"],)).fetchone()
                if row is None:
                    fields["created_at"] = fields["created_at"] or _now()
                    fields["updated_at"] = fields["updated_at"] or fields["created_at"]
                    stored_parts: list[sqlite3.Row] = []
                    created += 1
                else:
                    fields["created_at"] = fields["created_at"] or row["created_at"]
                    # A note frontline added moved updated_at on; only a later time from the file changes it.
                    fields["updated_at"] = _later(row["updated_at"], fields["updated_at"])
                    stored_parts = db.execute(
                        f"SELECT id, {', '.join(PART_FIELDS)} FROM parts WHERE conversation_id = ? AND marker IS NULL "
                        "ORDER BY id", (raw["id"],)).fetchall()
                    if all(fields[name] == row[name] for name in FIELDS) and \
                            [tuple(part)[1:] for part in stored_parts] == parts:
                        unchanged += 1
                        continue
                    updated += 1
                seq += 1
                columns = ", ".join(FIELDS)
                db.execute(f"INSERT INTO conversations (id, seq, {columns}) VALUES (:id, :seq, "
                           f"{', '.join(f':{name}' for name in FIELDS)}) ON CONFLICT (id) DO UPDATE SET seq = "
                           f"excluded.seq, {', '.join(f'{name} = excluded.{name}' for name in FIELDS)}",
                           {**fields, "id": raw["id"], "seq": seq})
                self._store_parts(raw["id"], stored_parts, parts)
        return Upserted(created, updated, unchanged)

    def _store_parts(self, conversation_id: str, stored: list[sqlite3.Row], parts: list[tuple[Any, ...]]) -> None:
        """Make the imported parts (not frontline's notes) match ``parts``, rewriting only those that differ."""
        db = self._db
        for old, new in zip(stored, parts, strict=False):
            if tuple(old)[1:] != new:
                db.execute(f"UPDATE parts SET {', '.join(f'{name} = ?' for name in PART_FIELDS)} WHERE id = ?",
                           (*new, old["id"]))
        db.executemany("DELETE FROM parts WHERE id = ?", [(old["id"],) for old in stored[len(parts):]])
        db.executemany(f"INSERT INTO parts (conversation_id, {', '.join(PART_FIELDS)}) VALUES (?, ?, ?, ?, ?, ?)",
                       [(conversation_id, *new) for new in parts[len(stored):]])

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


def _later(stored: str | None, given: str | None) -> str | None:
    """The later of two ISO times (the stored one when the other is missing or not later)."""
    if given is None or stored is None:
        return stored or given
    later = parse_timestamp(given)
    earlier = parse_timestamp(stored)
    return given if later is not None and earlier is not None and later > earlier else stored


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
