"""The embedded tracker: escalation issues in a SQLite file, each also written as a markdown file.

Issues are numbered ``ESC-1``, ``ESC-2``… Each one's URL is the ``file://`` address of its markdown
copy under the workspace's ``issues/`` folder, so a person can open it from the alert. The database
is the truth; the markdown file is rewritten whenever the issue changes (created, closed).

At most one *open* issue carries a marker (a unique index says so, across processes too), so
creating an issue for an escalation that already has an open one returns that issue.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from frontline import private
from frontline.config import Settings
from frontline.errors import ConnectorError, NotFoundError, WorkspaceError
from frontline.model import IssueDraft, IssueRef
from frontline.ports import Check

from .sqlite import connect, migrate, transaction

SERVICE = "Local tracker"
PREFIX = "ESC"

SCHEMA = [
    """
    CREATE TABLE issues (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        marker TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '[]',
        project TEXT,
        priority TEXT NOT NULL DEFAULT 'P1',
        state TEXT NOT NULL DEFAULT 'open',
        created_at TEXT NOT NULL,
        closed_at TEXT
    );
    CREATE UNIQUE INDEX ix_issues_open_marker ON issues(marker) WHERE state = 'open'
    """,
]


@dataclass(frozen=True, slots=True)
class LocalIssue:
    """One issue of the embedded tracker."""

    id: str
    identifier: str
    title: str
    body: str
    marker: str
    labels: tuple[str, ...]
    project: str | None
    priority: str
    state: str  # open | closed
    created_at: str
    closed_at: str | None
    url: str

    @property
    def ref(self) -> IssueRef:
        """The reference flows keep."""
        return IssueRef(self.id, self.identifier, self.url)


class LocalTracker:
    """A real, single-machine issue tracker in SQLite with a markdown copy of every issue."""

    name = "local"

    def __init__(self, path: Path, folder: Path | None = None) -> None:
        self.path = path
        self.folder = folder or path.parent / "issues"
        self._db: sqlite3.Connection = connect(path)
        migrate(self._db, SCHEMA)

    @classmethod
    def from_settings(cls, settings: Settings, **_: Any) -> LocalTracker:
        """The tracker file in the workspace, issues as markdown under ``issues/``."""
        return cls(settings.path("tracker.db"), settings.path("issues"))

    # -- reading -------------------------------------------------------------------------------
    def _file(self, identifier: str) -> Path:
        return self.folder / f"{identifier}.md"

    def _issue(self, row: sqlite3.Row) -> LocalIssue:
        identifier = f"{PREFIX}-{row['id']}"
        return LocalIssue(
            id=str(row["id"]), identifier=identifier, title=row["title"], body=row["body"], marker=row["marker"],
            labels=tuple(json.loads(row["labels"])), project=row["project"], priority=row["priority"],
            state=row["state"], created_at=row["created_at"], closed_at=row["closed_at"],
            url=self._file(identifier).resolve().as_uri(),
        )

    def list_issues(self, state: str | None = None) -> list[LocalIssue]:
        """Issues oldest first, optionally only ``open`` or ``closed`` ones (for `frontline demo` and tests)."""
        if state is None:
            rows = self._db.execute("SELECT * FROM issues ORDER BY id")
        else:
            rows = self._db.execute("SELECT * FROM issues WHERE state = ? ORDER BY id", (state,))
        return [self._issue(r) for r in rows]

    def get(self, issue: str) -> LocalIssue:
        """One issue by id (``3``) or identifier (``ESC-3``); NotFoundError when there is none."""
        number = issue.strip().upper().removeprefix(f"{PREFIX}-")
        row = None
        if number.isdigit():
            row = self._db.execute("SELECT * FROM issues WHERE id = ?", (int(number),)).fetchone()
        if row is None:
            raise NotFoundError(SERVICE, f"no issue {issue!r} in {self.path}",
                                hint=f"Issues are named {PREFIX}-1, {PREFIX}-2…; see the files in {self.folder}")
        return self._issue(row)

    async def find_issue(self, marker: str) -> IssueRef | None:
        """The open issue carrying ``marker``, if any."""
        row = self._db.execute("SELECT * FROM issues WHERE marker = ? AND state = 'open'", (marker,)).fetchone()
        return self._issue(row).ref if row else None

    # -- writing -------------------------------------------------------------------------------
    async def create_issue(self, draft: IssueDraft) -> IssueRef:
        """File an issue and write its markdown copy; an open issue with the same marker is returned instead."""
        body = draft.body if draft.marker in draft.body else f"{draft.body}\n\nfrontline marker: `{draft.marker}`"
        db = self._db
        try:
            with transaction(db):
                row = db.execute("SELECT * FROM issues WHERE marker = ? AND state = 'open'", (draft.marker,)).fetchone()
                if row is None:
                    cursor = db.execute(
                        "INSERT INTO issues (title, body, marker, labels, project, priority, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (" ".join(draft.title.split()) or "Escalation", body, draft.marker,
                         json.dumps(list(dict.fromkeys(draft.labels))), draft.project, draft.priority,
                         datetime.now(UTC).isoformat(timespec="seconds")),
                    )
                    row = db.execute("SELECT * FROM issues WHERE id = ?", (cursor.lastrowid,)).fetchone()
                    # Inside the transaction: an issue whose file cannot be written is not filed at all.
                    self._write(self._issue(row))
        except (sqlite3.Error, OSError, WorkspaceError) as error:  # the issue's file could not be written
            raise ConnectorError(SERVICE, f"could not file the issue in {self.path}: {str(error).rstrip('.')}",
                                 hint="Check the workspace's free space and permissions") from None
        return self._issue(row).ref

    def close_issue(self, issue: str) -> LocalIssue:
        """Close an issue (by id or identifier); closing a closed issue changes nothing."""
        found = self.get(issue)
        if found.state != "closed":
            self._db.execute("UPDATE issues SET state = 'closed', closed_at = ? WHERE id = ?",
                             (datetime.now(UTC).isoformat(timespec="seconds"), found.id))
            found = self.get(found.id)
            self._write(found)
        return found

    def _write(self, issue: LocalIssue) -> None:
        """The issue as markdown with a small front matter, replaced atomically."""
        private.folder(self.folder)
        front = {"identifier": issue.identifier, "title": issue.title, "state": issue.state,
                 "priority": issue.priority, "labels": list(issue.labels), "project": issue.project,
                 "created_at": issue.created_at, "closed_at": issue.closed_at, "marker": issue.marker}
        lines = ["---", *(f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in front.items()), "---",
                 "", f"# {issue.identifier}: {issue.title}", "", issue.body.rstrip(), ""]
        private.write_text(self._file(issue.identifier), "\n".join(lines))

    # -- setup ---------------------------------------------------------------------------------
    async def diagnose(self) -> list[Check]:
        """How many issues the embedded tracker holds, and whether its folder can be written."""
        name = f"tracker {self.name}"
        folder = self.folder if self.folder.exists() else self.folder.parent
        if not os.access(folder, os.W_OK):
            return [Check(name, False, f"{folder} is not writable", "Fix the workspace's permissions")]
        counts = self.counts()
        return [Check(name, True, f"ACTIVE: {counts['open']} open and {counts['closed']} closed "
                                  f"issues in {self.path}, readable as markdown in {self.folder}")]

    def counts(self) -> dict[str, int]:
        """Open and closed issues (for the demo's summary)."""
        rows = self._db.execute("SELECT state, COUNT(*) FROM issues GROUP BY state").fetchall()
        found = {str(state): int(count) for state, count in rows}
        return {"open": found.get("open", 0), "closed": found.get("closed", 0)}

    async def aclose(self) -> None:
        """Close the file."""
        self._db.close()
