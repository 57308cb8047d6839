"""Import tickets into the embedded helpdesk from CSV or JSONL, reporting bad rows and duplicates by line."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from frontline.errors import DataFileError

from .bodies import body_format, body_text, check_storable, checked_id
from .bodies import field_text as _text
from .textfile import read_text

ALIASES = {
    "body": "description", "text": "description", "message": "description", "content": "description",
    "title": "subject", "email": "requester_email", "requester": "requester_email", "name": "requester_name",
    "organization": "company", "company_name": "company", "monthly_spend": "mrr", "label": "category",
    "ticket_id": "id", "content_type": "format",
}
KNOWN = {
    "id", "subject", "description", "requester_name", "requester_email", "company", "plan", "mrr",
    "tags", "priority", "status", "category", "severity", "created_at", "updated_at", "format", "messages",
}
AUTHORS = ("customer", "agent")
PRIORITIES = {"urgent", "high", "normal", "low"}
STATUSES = {"new", "open", "pending", "hold", "solved", "closed"}
MAX_BODY = 1_000_000
CSV_FIELD_LIMIT = 16 * MAX_BODY


@dataclass
class ImportReport:
    """What an import read: rows kept, rows skipped (line, reason), later rows that replaced an earlier
    one with the same id (line, id, the earlier row's line), and lines not in UTF-8 (line, encoding)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    encoding: str = "utf-8"
    truncated: int = 0
    legacy: list[tuple[int, str]] = field(default_factory=list)
    duplicates: list[tuple[int, str, int]] = field(default_factory=list)
    rows: int = 0
    _lines: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)

    def keep(self, line: int, record: dict[str, Any]) -> None:
        """Keep a record read on ``line``; one with an id already read replaces it (the later row wins, as
        a re-export of an updated ticket would) and is reported as a duplicate."""
        earlier = self._lines.get(record["id"])
        if earlier is None:
            self._lines[record["id"]] = (len(self.records), line)
            self.records.append(record)
            return
        index, earlier_line = earlier
        self.records[index] = record
        self._lines[record["id"]] = (index, line)
        self.duplicates.append((line, record["id"], earlier_line))


def _time(value: Any, name: str) -> str | None:
    text = _text(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.fromtimestamp(float(text), tz=UTC)
        except (ValueError, OverflowError, OSError):
            raise ValueError(f"{name} {text[:40]!r} is not an ISO 8601 date or a Unix timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).isoformat()
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError(f"{name} {text[:40]!r} is outside the years 1 to 9999 in UTC") from None


def normalise_record(raw: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """Validate one raw row into the helpdesk's record shape; returns (record, truncated)."""
    row: dict[str, Any] = {}
    for key, value in raw.items():
        if key is None:
            raise ValueError("has more fields than the header")
        name = str(key).strip().lower().replace(" ", "_").replace("-", "_")
        row[ALIASES.get(name, name)] = value
    check_storable(row)
    if _text(row.get("id")) == "":
        raise ValueError("has no id")
    ticket_id = checked_id(row["id"])
    # A subject is one line of plain text; only a body is ever HTML, and only when the row says so.
    subject = " ".join(_text(row.get("subject")).split())
    description = body_text(row.get("description"), body_format(row.get("format")))
    if not subject and not description:
        raise ValueError(f"ticket {ticket_id} has neither a subject nor a description")
    truncated = len(description) > MAX_BODY
    if truncated:
        description = description[:MAX_BODY]
    mrr: float | None = None
    if _text(row.get("mrr")):
        try:
            mrr = float(str(row["mrr"]).replace(",", "").replace("$", "").strip())
        except ValueError:
            raise ValueError(f"mrr {row['mrr']!r} is not a number") from None
        if not math.isfinite(mrr) or mrr < 0:
            raise ValueError(f"mrr {row['mrr']!r} must be a non-negative number")
    tags_value = row.get("tags")
    if isinstance(tags_value, list):
        tags = [_text(t) for t in tags_value if _text(t)]
    else:
        tags = [t.strip() for t in _text(tags_value).replace(";", ",").split(",") if t.strip()]
    priority = _text(row.get("priority")).lower() or None
    if priority and priority not in PRIORITIES:
        raise ValueError(f"priority {priority!r} is not one of {', '.join(sorted(PRIORITIES))}")
    # None, not "new", when the row gives no status: a re-import must not reset a ticket triage opened.
    status = _text(row.get("status")).lower() or None
    if status and status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(sorted(STATUSES))}")
    record: dict[str, Any] = {
        "id": ticket_id,
        "subject": subject,
        "description": description,
        "requester_name": _text(row.get("requester_name")),
        "requester_email": _text(row.get("requester_email")),
        "company": _text(row.get("company")) or None,
        "plan": _text(row.get("plan")).lower() or None,
        "mrr": mrr,
        "tags": tags,
        "priority": priority,
        "status": status,
        "category": _text(row.get("category")) or None,
        "severity": _text(row.get("severity")).upper() or None,
        "created_at": _time(row.get("created_at"), "created_at"),
        "updated_at": _time(row.get("updated_at"), "updated_at"),
    }
    if row.get("messages") not in (None, "", []):
        record["messages"] = _messages(row["messages"])
    return record, truncated


def _messages(value: Any) -> list[dict[str, Any]]:
    """A row's public thread after its description: a list of {author: customer | agent, body, created_at}."""
    if not isinstance(value, list):
        raise ValueError("messages must be a list of {\"author\", \"body\"} objects (JSONL or POST /tickets; a CSV "
                         "cell cannot hold one)")
    messages = []
    for place, item in enumerate(value, start=1):
        if not isinstance(item, Mapping):
            raise ValueError(f"message {place} is not an object with an author and a body")
        author = _text(item.get("author")).lower() or "customer"
        if author not in AUTHORS:
            raise ValueError(f"message {place} has author {author[:40]!r}; use customer or agent")
        body = body_text(item.get("body"), body_format(item.get("format")))[:MAX_BODY]
        if not body.strip():
            raise ValueError(f"message {place} has no body")
        messages.append({"author": author, "body": body,
                         "created_at": _time(item.get("created_at"), f"message {place} created_at")})
    return messages


# Lines end at CR LF, LF or CR only: str.splitlines() also breaks at U+2028, form feeds and the like,
# which JSON strings may hold as they are, and would cut such a record in two.
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _jsonl_rows(text: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(_NEWLINE.split(text), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, ValueError(f"is not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(value, dict):
            yield number, ValueError("is not a JSON object")
            continue
        yield number, value


def _csv_rows(text: str) -> Iterator[tuple[int, Any]]:
    # The csv module refuses fields over 128 KiB by default; a long body is clipped later instead.
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        return
    while True:
        # A quoted field can span lines: report the line the row starts on, as an editor shows it.
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, ValueError(f"is not valid CSV ({exc})")
            continue
        yield start, row


def read_tickets(path: Path) -> ImportReport:
    """Parse a CSV or JSONL file of tickets; bad rows are reported with their line number and skipped."""
    decoded = read_text(path)
    text = decoded.text
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        rows = _jsonl_rows(text)
    elif suffix in {".csv", ".tsv", ".txt"}:
        rows = _csv_rows(text)
    else:
        stripped = text.lstrip()
        rows = _jsonl_rows(text) if stripped.startswith("{") else _csv_rows(text)
    report = ImportReport(encoding=decoded.encoding, legacy=list(decoded.legacy))
    for number, row in rows:
        report.rows += 1
        if isinstance(row, Exception):
            report.errors.append((number, str(row)))
            continue
        try:
            record, truncated = normalise_record(row)
        except ValueError as exc:
            report.errors.append((number, str(exc)))
            continue
        report.truncated += truncated
        report.keep(number, record)
    if not report.records and not report.errors:
        raise DataFileError(str(path), "it holds no tickets (expected a CSV with a header row, or JSON lines)")
    return report


def read_conversations(path: Path) -> ImportReport:
    """Parse a JSONL file (or a JSON array) of conversations; bad ones are reported by line and skipped."""
    from frontline.connectors.local.conversations import normalise_conversation

    decoded = read_text(path)
    text = decoded.text
    rows: Iterator[tuple[int, Any]]
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFileError(str(path), f"it is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        rows = ((n, item if isinstance(item, dict) else ValueError("is not a JSON object"))
                for n, item in enumerate(items, start=1))
    else:
        rows = _jsonl_rows(text)
    report = ImportReport(encoding=decoded.encoding, legacy=list(decoded.legacy))
    for number, row in rows:
        report.rows += 1
        if isinstance(row, Exception):
            report.errors.append((number, str(row)))
            continue
        try:
            report.keep(number, normalise_conversation(row))
        except ValueError as exc:
            report.errors.append((number, str(exc)))
    if not report.records and not report.errors:
        raise DataFileError(str(path), "it holds no conversations (expected JSON lines, one conversation each)")
    return report
