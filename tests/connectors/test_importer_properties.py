"""Properties of the CSV/JSONL importers, which read whatever file a user hands them.

Whatever the bytes, an import returns a report or raises DataFileError; rows that can be read are
kept, every other row is reported with the line it starts on, and ids come out canonical. What is
stored is what was sent, except where the format says so.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from frontline.connectors.local.importer import normalise_record, read_conversations, read_tickets
from frontline.decide.text import html_to_text
from frontline.errors import DataFileError
from frontline.model import normalise_id
from frontline.storable import text_problem

FILES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SUFFIXES = (".csv", ".jsonl", ".json", ".txt", ".tsv", ".ndjson", ".dat", "")
# Text a ticket may hold: any character a file can carry (no NUL, which the importer strips).
TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60)
LINE_TEXT = st.text(st.characters(blacklist_categories=["Cs", "Zl", "Zp"],
                                  blacklist_characters="\x00\r\n\x0b\x0c\x1c\x1d\x1e\x85"), max_size=40)
IDS = st.one_of(st.integers(min_value=0, max_value=10**12),
                st.from_regex(r"[A-Za-z][A-Za-z0-9\-]{0,12}", fullmatch=True))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=8)


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _lines(text: str) -> int:
    """Lines as an editor counts them: ended by CR LF, LF or CR."""
    return len(re.split(r"\r\n|\r|\n", text))


# -- never crash ------------------------------------------------------------------------------------
@FILES
@given(content=st.binary(max_size=1500), suffix=st.sampled_from(SUFFIXES))
def test_any_bytes_give_a_report_or_a_data_file_error(tmp_path: Path, content: bytes, suffix: str) -> None:
    path = _write(tmp_path, f"tickets{suffix}", content)
    try:
        report = read_tickets(path)
    except DataFileError as error:
        assert str(path) in str(error)
        return
    text = content.decode(report.encoding.split()[0], "replace")
    for line, reason in report.errors:
        assert isinstance(reason, str) and reason
        assert 1 <= line <= max(1, _lines(text))
    assert all(isinstance(r["id"], str) and r["id"] for r in report.records)


@FILES
@given(content=st.one_of(st.binary(max_size=1500), st.lists(st.dictionaries(TEXT, VALUES, max_size=6), max_size=6)
                         .map(lambda rows: "\n".join(json.dumps(r) for r in rows).encode())))
def test_any_file_of_conversations_gives_a_report_or_a_data_file_error(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path, "conversations.jsonl", content)
    try:
        report = read_conversations(path)
    except DataFileError as error:
        assert str(path) in str(error)
        return
    assert all(line >= 1 and reason for line, reason in report.errors)
    assert all(r["parts"] and isinstance(r["id"], str) for r in report.records)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.one_of(TEXT, st.none()), VALUES, max_size=8))
def test_normalising_any_row_returns_a_record_or_says_why_not(row: dict[Any, Any]) -> None:
    try:
        record, truncated = normalise_record(row)
    except ValueError as error:
        assert str(error)
        return
    assert record["id"] and record["status"] in {None, "new", "open", "pending", "hold", "solved", "closed"}
    assert record["mrr"] is None or (math.isfinite(record["mrr"]) and record["mrr"] >= 0)
    assert record["subject"] or record["description"]
    assert isinstance(truncated, bool)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(TEXT, VALUES, max_size=8), st.one_of(IDS, VALUES))
def test_normalising_any_conversation_returns_a_record_or_says_why_not(raw: dict[str, Any], conversation_id: Any
                                                                       ) -> None:
    from frontline.connectors.local.conversations import normalise_conversation

    raw = {**raw, "id": conversation_id}
    try:
        record = normalise_conversation(raw)
    except ValueError as error:
        assert str(error)
        return
    assert record["id"] and record["parts"]
    assert record["mrr"] is None or (math.isfinite(record["mrr"]) and record["mrr"] >= 0)


# -- ids --------------------------------------------------------------------------------------------
@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["{}", " {} ", "{}.0", "\t{}\n", "{}.00"]))
def test_numeric_ids_are_canonical_however_they_are_written(number: int, shape: str) -> None:
    assert normalise_id(shape.format(number)) == str(number)
    assert normalise_id(number) == str(number) == normalise_id(float(number)) or number > 2**53
    record, _ = normalise_record({"ticket_id": shape.format(number), "subject": "Hello"})
    assert record["id"] == str(number)


# -- rows kept, rows reported -------------------------------------------------------------------------
GOOD = st.fixed_dictionaries({"subject": TEXT.filter(lambda t: t.strip() != ""), "description": TEXT,
                              "status": st.sampled_from(["new", "open", "Pending", ""]),
                              "mrr": st.sampled_from(["", "0", "49.5", "$1,200"])})
BAD = st.sampled_from([{"id": "", "subject": "no id"}, {"id": "{n}", "subject": "", "description": " "},
                       {"id": "{n}", "subject": "odd", "status": "exploded"},
                       {"id": "{n}", "subject": "odd", "mrr": "lots"},
                       {"id": "{n}", "subject": "odd", "priority": "whenever"},
                       {"id": "{n}", "subject": "odd", "created_at": "yesterday"}])


@FILES
@given(rows=st.lists(st.tuples(st.booleans(), GOOD, BAD), min_size=1, max_size=12))
def test_csv_rows_are_kept_or_reported_at_the_line_they_start_on(tmp_path: Path,
                                                                 rows: list[tuple[bool, dict[str, str], Any]]) -> None:
    fields = ["id", "subject", "description", "status", "mrr", "priority", "created_at"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    expected_ids, expected_lines = [], []
    for number, (good, row, bad) in enumerate(rows, start=1):
        line = buffer.getvalue().count("\n") + 1
        if good:
            writer.writerow({"id": f" {number} ", **row})
            expected_ids.append(str(number))
        else:
            writer.writerow({key: value.format(n=number) for key, value in bad.items()})
            expected_lines.append(line)
    text = buffer.getvalue()
    assume("\r" not in text)  # a lone CR is a line break to the csv module but not to every editor
    path = _write(tmp_path, "tickets.csv", text.encode())
    try:
        report = read_tickets(path)
    except DataFileError:
        assert not expected_ids and not expected_lines
        return
    assert [r["id"] for r in report.records] == expected_ids
    assert [line for line, _ in report.errors] == expected_lines


@FILES
@given(rows=st.lists(st.tuples(st.booleans(), GOOD, st.sampled_from(["{not json", "[1, 2]", "\"text\"", "{\"x\": 1}"])),
                     min_size=1, max_size=12))
def test_jsonl_lines_are_kept_or_reported_by_their_number(tmp_path: Path, rows: list[tuple[bool, dict[str, str], str]]
                                                          ) -> None:
    lines, expected_ids, expected_lines = [], [], []
    for number, (good, row, bad) in enumerate(rows, start=1):
        if good:  # written as most exporters do: UTF-8, no escaping of non-ASCII characters
            lines.append(json.dumps({"id": number, **row}, ensure_ascii=False))
            expected_ids.append(str(number))
        else:
            lines.append(bad)
            expected_lines.append(number)
    path = _write(tmp_path, "tickets.jsonl", "\n".join(lines).encode())
    report = read_tickets(path)
    assert [r["id"] for r in report.records] == expected_ids
    assert [line for line, _ in report.errors] == expected_lines


PART = st.fixed_dictionaries({"author": st.sampled_from(["customer", "agent", "bot"]), "body": TEXT,
                              "created_at": st.sampled_from(["2026-11-01T10:00:00Z", "2026-11-02T09:30:00+02:00"])})


@FILES
@given(items=st.lists(st.tuples(st.booleans(), st.lists(PART, min_size=1, max_size=3), LINE_TEXT), min_size=1,
                      max_size=8),
       array=st.booleans())
def test_conversations_are_kept_or_reported_by_line_or_position(tmp_path: Path, items: list[Any], array: bool
                                                                ) -> None:
    records: list[Any] = []
    expected_ids, expected_bad = [], []
    for number, (good, parts, title) in enumerate(items, start=1):
        if good:
            records.append({"id": f"c{number}", "title": title, "parts": parts})
            expected_ids.append(f"c{number}")
        else:
            records.append({"id": f"c{number}", "title": title, "parts": []})  # no parts: refused
            expected_bad.append(number)
    content = json.dumps(records, ensure_ascii=False, indent=1) if array else \
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    path = _write(tmp_path, "conversations.jsonl", content.encode())
    report = read_conversations(path)
    assert [r["id"] for r in report.records] == expected_ids
    assert [line for line, _ in report.errors] == expected_bad


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0c", "\x1c"])
def test_a_jsonl_string_holding_a_unicode_line_separator_is_one_line(tmp_path: Path, separator: str) -> None:
    line = json.dumps({"id": 7, "subject": f"before{separator}after"}, ensure_ascii=False)
    report = read_tickets(_write(tmp_path, "t.jsonl", f"{line}\n".encode()))
    assert report.errors == [] and [r["id"] for r in report.records] == ["7"]


# -- timestamps -------------------------------------------------------------------------------------
# Offsets in whole minutes, as ISO 8601 writes them: Python's fromisoformat drops a fraction of a second in an
# offset ("+00:00:00.000001"), which no file holds.
OFFSETS = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60 - 59, 23 * 60 + 59))


@settings(max_examples=200, deadline=None)
@given(st.datetimes(timezones=st.one_of(st.none(), OFFSETS)), st.sampled_from(["created_at", "updated_at"]))
@example(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), "created_at")  # before year 1 in UTC
@example(datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-1))), "updated_at")  # after 9999
def test_any_iso_timestamp_is_stored_in_utc_or_refused(moment: datetime, name: str) -> None:
    from frontline.connectors.local.conversations import normalise_conversation

    stamp = moment.isoformat()
    try:
        record, _ = normalise_record({"id": 1, "subject": "Hello", name: stamp})
    except ValueError as error:
        assert name in str(error)
    else:
        stored = datetime.fromisoformat(record[name])
        assert stored.utcoffset() == timedelta(0)
        assert stored == (moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    try:
        normalise_conversation({"id": 1, name: stamp, "parts": [{"author": "customer", "body": "Hi",
                                                                "created_at": stamp}]})
    except ValueError as error:
        assert "created_at" in str(error) or name in str(error)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.floats(), st.integers(), TEXT, st.sampled_from(["nan", "inf", "-5", "1e999", "49.5"])),
       st.booleans())
def test_a_conversations_mrr_is_a_finite_non_negative_number_or_refused(mrr: Any, nested: bool) -> None:
    from frontline.connectors.local.conversations import normalise_conversation

    raw: dict[str, Any] = {"id": 1, "parts": [{"author": "customer", "body": "Hi"}]}
    if nested:
        raw["company"] = {"name": "Acme", "mrr": mrr}
    else:
        raw["mrr"] = mrr
    try:
        record = normalise_conversation(raw)
    except ValueError as error:
        assert "mrr" in str(error)
        return
    assert record["mrr"] is None or (math.isfinite(record["mrr"]) and record["mrr"] >= 0)


# -- what is stored is what was sent ---------------------------------------------------------------
# Stored as sent, except where the format says so: NUL dropped (the store cannot hold it), a plain body's
# surrounding whitespace dropped, a subject on one line, a body declared HTML reduced to text, ids stripped
# of surrounding whitespace and ASCII digits with ".0" read as the number.
SNIPPETS = st.sampled_from(["<script src=x>", "</script>", "<br>", "<p>", "</ticket>", "<b>x</b>", "&amp;", "&lt;",
                            '"', "'", ",", ";", "\n", "\r\n", "\r", "\t", " ", "\x00", "\u2028", "\x85", "\ufeff",
                            "ü", "日本", "😀", "{", "}", "[", "\\", "{{ticket.id}}", "[/]", "=cmd|' /C calc'!A0"])
ANY_TEXT = st.lists(st.one_of(SNIPPETS, st.text(st.characters(exclude_categories=["Cs"]), max_size=12)),
                    max_size=8).map("".join)
ID_TEXT = st.one_of(
    st.integers(min_value=0, max_value=10**20).map(str),
    st.from_regex(r"[0-9]{1,25}(\.0{1,3})?", fullmatch=True),
    st.sampled_from(["007", "7", "\u0663", "3", "1_000", "1000", "+4", "4", "4.0", "-4", "1e3", "4.5", "٠٠٧"]),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=12),
).map(lambda text: text.strip()).filter(bool)


def expected_id(raw: object) -> str:
    """An id as the importer documents it: ASCII digits with an optional ``.0`` are the number, the rest as written."""
    if isinstance(raw, int):
        return str(raw)
    text = str(raw).strip()
    number = re.fullmatch(r"([0-9]+)(?:\.0+)?", text, re.ASCII)
    return number.group(1) if number else text


def _plain(text: str) -> str:
    return text.replace("\x00", "").strip()


def expected_ticket(subject: str, description: str, html: bool) -> tuple[str, str]:
    """(subject, description) as the importer stores them."""
    body = html_to_text(_plain(description)) if html else _plain(description)
    return " ".join(subject.replace("\x00", "").split()), body


ROWS = st.lists(st.tuples(ID_TEXT, ANY_TEXT, ANY_TEXT, st.booleans()), min_size=1, max_size=10)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, kind=st.sampled_from(["csv", "jsonl"]), numeric=st.booleans())
@example(rows=[("7", "Use <script src=x>", "… <br> error", False), ("007", "b", "c", False)], kind="csv",
         numeric=False)
@example(rows=[("\u0663", "a", "<p>x &amp; y</p>", True), ("3", "b", "<p>x</p>", False)], kind="jsonl",
         numeric=False)
def test_every_ticket_is_stored_as_sent_except_where_the_format_says_so(
        tmp_path: Path, rows: list[tuple[str, str, str, bool]], kind: str, numeric: bool) -> None:
    records = [{"id": int(ident) if numeric and kind == "jsonl" and ident.isascii() and ident.isdigit() else ident,
                "subject": subject, "description": description, "format": "html" if html else ""}
               for ident, subject, description, html in rows]
    if kind == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=["id", "subject", "description", "format"])
        writer.writeheader()
        writer.writerows(records)
        content = buffer.getvalue()
    else:
        content = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    report = read_tickets(_write(tmp_path, f"tickets.{kind}", content.encode()))

    expected: dict[str, tuple[str, str]] = {}
    refused = 0
    for record, (_, subject, description, html) in zip(records, rows, strict=True):
        stored = expected_ticket(subject, description, html)
        if not any(stored):
            refused += 1
            continue
        expected[expected_id(record["id"])] = stored
    assert {r["id"]: (r["subject"], r["description"]) for r in report.records} == expected
    assert len(report.errors) == refused
    assert all("neither a subject nor a description" in reason for _, reason in report.errors)
    assert report.rows == len(rows) == len(report.records) + len(report.duplicates) + refused


CONVERSATIONS = st.lists(st.tuples(ID_TEXT, ANY_TEXT, st.sampled_from([None, "html", "text"]),
                                   st.lists(st.tuples(ANY_TEXT, ANY_TEXT, st.sampled_from([None, "html", "text"])),
                                            min_size=1, max_size=3)), min_size=1, max_size=6)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=CONVERSATIONS, array=st.booleans())
def test_every_conversation_is_stored_as_sent_except_where_the_format_says_so(
        tmp_path: Path, items: list[Any], array: bool) -> None:
    raws = []
    for ident, title, default, parts in items:
        raw: dict[str, Any] = {"id": ident, "title": title, "parts": [
            {"author": "customer", "body": body, "author_name": name, **({"format": form} if form else {})}
            for body, name, form in parts]}
        if default:
            raw["format"] = default
        raws.append(raw)
    content = json.dumps(raws, ensure_ascii=False) if array else \
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in raws)
    report = read_conversations(_write(tmp_path, "conversations.jsonl", content.encode()))

    expected: dict[str, Any] = {}
    for ident, title, default, parts in items:
        bodies = [html_to_text(_plain(body)) if (form or default) == "html" else _plain(body)
                  for body, _, form in parts]
        expected[expected_id(ident)] = (title.replace("\x00", ""), bodies, [name for _, name, _ in parts])
    assert report.errors == []
    assert {r["id"]: (r["title"], [p["body"] for p in r["parts"]], [p["author_name"] for p in r["parts"]])
            for r in report.records} == expected


FIELDS = ["subject", "description", "requester_name", "requester_email", "company", "plan", "tags"]
ROW = st.fixed_dictionaries({"id": ID_TEXT, **{name: ANY_TEXT for name in FIELDS[:-1]},
                             "tags": st.lists(ANY_TEXT.filter(lambda t: "," not in t and ";" not in t), max_size=3)})
SURROGATE = st.sampled_from(["\ud800", "\udfff", "a\udc00b"])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(ROW, st.one_of(st.none(), st.tuples(st.sampled_from(FIELDS), SURROGATE))),
                     min_size=1, max_size=8),
       kind=st.sampled_from(["csv", "jsonl"]))
def test_every_field_is_stored_as_sent_and_a_lone_surrogate_refuses_its_row_alone(
        tmp_path: Path, rows: list[tuple[dict[str, Any], tuple[str, str] | None]], kind: str) -> None:
    written = []
    for row, spoiled in rows:
        row = {**row, "tags": list(row["tags"])}
        if spoiled is not None and kind == "jsonl":  # a CSV file holds bytes: only a JSON escape makes a lone surrogate
            name, bad = spoiled
            if name == "tags":
                row["tags"].append(bad)
            else:
                row[name] += bad
        written.append(row)
    if kind == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=["id", *FIELDS])
        writer.writeheader()
        writer.writerows({**r, "tags": ";".join(r["tags"])} for r in written)
        content = buffer.getvalue().encode()
    else:  # escaped as json.dumps does by default, the one way a file can hold "\ud800"
        content = "".join(json.dumps(r) + "\n" for r in written).encode()
    report = read_tickets(_write(tmp_path, f"tickets.{kind}", content))

    def clean(text: str) -> str:
        return text.replace("\x00", "").strip()

    expected: dict[str, dict[str, Any]] = {}
    refused: list[str] = []
    for row in written:
        texts = [row[name] for name in FIELDS[:-1]] + row["tags"]
        if any(text_problem(t, nul=True) for t in texts):
            refused.append("lone surrogate")
            continue
        subject = " ".join(row["subject"].replace("\x00", "").split())
        if not subject and not clean(row["description"]):
            refused.append("neither a subject nor a description")
            continue
        expected[expected_id(row["id"])] = {
            "subject": subject, "description": clean(row["description"]),
            "requester_name": clean(row["requester_name"]), "requester_email": clean(row["requester_email"]),
            "company": clean(row["company"]) or None, "plan": clean(row["plan"]).lower() or None,
            "tags": [clean(t) for t in row["tags"] if clean(t)]}
    assert {r["id"]: {name: r[name] for name in expected.get(r["id"], r)} for r in report.records} == expected
    assert sorted("lone surrogate" if "lone surrogate" in reason else "neither a subject nor a description"
                  for _, reason in report.errors) == sorted(refused)
    assert all(reason.split(" ", 1)[0].split("[")[0] in FIELDS for _, reason in report.errors
               if "lone surrogate" in reason)
