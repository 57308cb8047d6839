"""Importing tickets from CSV and JSONL: bad rows by line, HTML reduced, encodings handled line by line,
duplicates reported, and a re-import that updates the customer's content without undoing triage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.importer import read_conversations, read_tickets
from frontline.errors import DataFileError
from frontline.model import WriteBack
from tests.helpers import run


def test_csv_rows_are_parsed_and_bad_rows_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        'id,subject,body,plan,mrr,tags\n'
        '4.0,Crash,<p>App &amp; <b>crash</b></p>,Pro,200,"vip, mobile"\n'
        ',missing id,x,,,\n'
        '5,,,,,\n'
        '6,Hi,there,pro,lots,\n'
        '7,"Multi\nline subject",body,,,\n',
        encoding="utf-8",
    )
    report = read_tickets(path)
    assert [r["id"] for r in report.records] == ["4", "7"]
    first = report.records[0]
    assert first["description"] == "<p>App &amp; <b>crash</b></p>"  # a plain-text column: kept as written
    assert first["plan"] == "pro" and first["mrr"] == 200.0 and first["tags"] == ["vip", "mobile"]
    assert report.records[1]["subject"] == "Multi line subject"
    assert [line for line, _ in report.errors] == [3, 4, 5]
    assert "no id" in report.errors[0][1] and "mrr 'lots'" in report.errors[2][1]


def test_jsonl_reports_invalid_lines_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [json.dumps({"id": 1, "subject": "A", "description": "x", "tags": ["a"]}), "{not json",
             "[1, 2]", json.dumps({"id": 2, "subject": "B", "status": "weird"}),
             json.dumps({"id": 3, "title": "C", "text": "y", "created_at": "2026-11-01T10:00:00Z"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = read_tickets(path)
    assert [r["id"] for r in report.records] == ["1", "3"]
    assert report.records[1]["subject"] == "C" and report.records[1]["created_at"].startswith("2026-11-01T10:00")
    assert [line for line, _ in report.errors] == [2, 3, 4]


def test_an_id_that_is_an_object_or_a_list_is_a_bad_row_not_its_text(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [json.dumps({"id": {"id": 7}, "subject": "A"}), json.dumps({"ticket_id": [7], "subject": "B"}),
             json.dumps({"id": 8, "subject": "C"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = read_tickets(path)
    assert [r["id"] for r in report.records] == ["8"]
    assert [(line, "object or a list" in why) for line, why in report.errors] == [(1, True), (2, True)]


def test_windows_1252_file_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("id,subject,description\n1,Café crash,naïve “quote”\n".encode("cp1252"))
    report = read_tickets(path)
    assert report.encoding == "cp1252"
    assert report.records[0]["subject"] == "Café crash" and "“quote”" in report.records[0]["description"]


def test_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffid,subject\n9,Hello\n".encode())
    assert read_tickets(path).records[0]["id"] == "9"


def test_duplicate_ids_keep_the_last_row(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 4, "subject": "old"}\n{"id": "4.0", "subject": "new"}\n', encoding="utf-8")
    report = read_tickets(path)
    assert [(r["id"], r["subject"]) for r in report.records] == [("4", "new")]


def test_huge_body_is_truncated_not_rejected(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"id": 1, "subject": "log", "description": "x" * 1_200_000}) + "\n", encoding="utf-8")
    report = read_tickets(path)
    assert report.truncated == 1 and len(report.records[0]["description"]) == 1_000_000


def test_huge_csv_body_is_truncated_and_lines_count_from_the_row_start(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        'id,subject,description\n'
        '1,"two\nlines",x\n'
        f'2,log,"{"y" * 1_200_000}"\n'
        ',no id,z\n',
        encoding="utf-8",
    )
    report = read_tickets(path)
    assert [r["id"] for r in report.records] == ["1", "2"]
    assert report.truncated == 1 and len(report.records[1]["description"]) == 1_000_000
    assert [line for line, _ in report.errors] == [5]


def test_missing_and_empty_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="does not exist"):
        read_tickets(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataFileError, match="no tickets"):
        read_tickets(empty)


# -- re-import: the customer's content is updated, what frontline wrote stays ------------------------
def _import(helpdesk: LocalHelpdesk, path: Path, content: str) -> tuple[int, int, int]:
    path.write_text(content, encoding="utf-8")
    return tuple(helpdesk.upsert(read_tickets(path).records))  # type: ignore[return-value]


FIRST = ("id,subject,description,tags,priority\n"
         "1,Locked out,I forgot my password,vip,\n"
         "2,Invoice,Refund the double charge,,normal\n"
         "3,Export,CSV export is empty,,\n")


def test_reimport_after_triage_keeps_tags_priority_status_and_notes(tmp_path: Path) -> None:
    helpdesk = LocalHelpdesk(tmp_path / "helpdesk.db")
    path = tmp_path / "tickets.csv"
    assert _import(helpdesk, path, FIRST) == (3, 0, 0)
    run(helpdesk.write_back([
        WriteBack(n, ("auto_category:bug", "frontline-review"), "high", f"triaged {n}", f"fl-{n}") for n in "12"
    ]))
    assert _import(helpdesk, path, FIRST) == (0, 0, 3)
    # The customer edits ticket 1 and tags it, and gives ticket 3 a priority: only those change.
    changed = FIRST.replace("I forgot my password", "Still locked out").replace("vip,", '"vip,mobile",') \
        .replace("is empty,,", "is empty,,low")
    assert _import(helpdesk, path, changed) == (0, 2, 1)
    one, two, three = (run(helpdesk.get(n)) for n in "123")
    assert one.description == "Still locked out"
    assert one.tags == ("vip", "auto_category:bug", "frontline-review", "mobile")
    assert (one.priority, one.status) == ("high", "open")  # no priority or status in the file: triage's stay
    assert two.tags == ("auto_category:bug", "frontline-review") and (two.priority, two.status) == ("high", "open")
    assert (three.priority, three.status) == ("low", "new")  # a value the file gives is the customer's
    assert [n["body"] for n in helpdesk.notes("1")] == ["triaged 1"]
    assert [n["body"] for n in helpdesk.notes("2")] == ["triaged 2"]


def test_a_status_or_priority_the_file_changes_is_applied(tmp_path: Path) -> None:
    helpdesk = LocalHelpdesk(tmp_path / "helpdesk.db")
    path = tmp_path / "tickets.csv"
    _import(helpdesk, path, "id,subject,status,priority\n1,Hello,new,normal\n")
    run(helpdesk.write_back([WriteBack("1", (), "high", "n", "fl-1")]))
    assert _import(helpdesk, path, "id,subject,status,priority\n1,Hello,new,normal\n") == (0, 0, 1)
    assert (run(helpdesk.get("1")).status, run(helpdesk.get("1")).priority) == ("open", "high")
    assert _import(helpdesk, path, "id,subject,status,priority\n1,Hello,solved,urgent\n") == (0, 1, 0)
    assert (run(helpdesk.get("1")).status, run(helpdesk.get("1")).priority) == ("solved", "urgent")


def test_unchanged_tickets_are_left_alone_and_changed_ones_listed_again(tmp_path: Path) -> None:
    helpdesk = LocalHelpdesk(tmp_path / "helpdesk.db")
    path = tmp_path / "tickets.csv"
    _import(helpdesk, path, FIRST)
    cursor = run(helpdesk.list_changed(None, 10)).cursor
    assert _import(helpdesk, path, FIRST) == (0, 0, 3)
    assert run(helpdesk.list_changed(cursor, 10)).items == []
    before = run(helpdesk.get("2"))
    assert _import(helpdesk, path, FIRST.replace("Export,", "Export broken,")) == (0, 1, 2)
    page = run(helpdesk.list_changed(cursor, 10))
    assert [(t.id, t.subject) for t in page.items] == [("3", "Export broken")]
    assert run(helpdesk.get("2")) == before  # nothing rewritten, not even its times
    assert run(helpdesk.list_changed(page.cursor, 10)).items == []


# -- encodings: decided line by line -----------------------------------------------------------------
def test_one_windows_1252_row_leaves_the_utf8_rows_intact(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_bytes(b"id,subject,description\r\n"
                     + "1,Zürich office,\"first line\r\nstill Zürich\"\r\n".encode()
                     + "2,Café crash,naïve “quote”\r\n".encode("cp1252")
                     + "3,Zürich again,ok\r\n".encode())
    report = read_tickets(path)
    assert [r["subject"] for r in report.records] == ["Zürich office", "Café crash", "Zürich again"]
    assert report.records[0]["description"] == "first line\r\nstill Zürich"
    assert report.records[1]["description"] == "naïve “quote”"
    assert report.legacy == [(4, "Windows-1252")]


def test_legacy_lines_are_found_in_jsonl_and_inside_quoted_csv_fields(tmp_path: Path) -> None:
    jsonl = tmp_path / "tickets.jsonl"
    jsonl.write_bytes(b'{"id": 1, "subject": "Z\xc3\xbcrich"}\n{"id": 2, "subject": "Caf\xe9"}\n'
                      b'{"id": 3, "subject": "\x81 odd"}\n')
    report = read_tickets(jsonl)
    assert [r["subject"] for r in report.records] == ["Zürich", "Café", "\x81 odd"]
    assert report.legacy == [(2, "Windows-1252"), (3, "Latin-1")]
    csv_path = tmp_path / "tickets.csv"
    csv_path.write_bytes(b'\xef\xbb\xbfid,subject,description\n1,Hi,"Z\xc3\xbcrich\nna\xefve\nend"\n,no id,x\n')
    report = read_tickets(csv_path)
    assert report.records[0]["description"] == "Zürich\nnaïve\nend"
    assert report.legacy == [(3, "Windows-1252")] and [line for line, _ in report.errors] == [5]


def test_conversations_are_decoded_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    part = {"author": "customer", "body": "Grüße aus Zürich"}
    path.write_bytes(json.dumps({"id": 1, "parts": [part]}, ensure_ascii=False).encode() + b"\n"
                     + json.dumps({"id": 2, "parts": [part]}, ensure_ascii=False).encode("cp1252") + b"\n")
    report = read_conversations(path)
    assert [r["parts"][0]["body"] for r in report.records] == ["Grüße aus Zürich"] * 2
    assert report.legacy == [(2, "Windows-1252")]


# -- duplicate ids: reported, the later row wins, counts add up --------------------------------------
def test_duplicate_ids_are_reported_by_line_and_the_counts_add_up(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,subject\n4,old\n5,five\n,no id\n4.0,new\n5,five again\n", encoding="utf-8")
    report = read_tickets(path)
    assert [(r["id"], r["subject"]) for r in report.records] == [("4", "new"), ("5", "five again")]
    assert report.duplicates == [(5, "4", 2), (6, "5", 3)]
    assert report.rows == 5 == len(report.records) + len(report.duplicates) + len(report.errors)


def test_duplicate_conversations_are_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    part = {"author": "customer", "body": "hi"}
    path.write_text("\n".join(json.dumps({"id": n, "title": t, "parts": [part]})
                              for n, t in ((7, "old"), (8, "x"), ("7.0", "new"))) + "\n", encoding="utf-8")
    report = read_conversations(path)
    assert [(r["id"], r["title"]) for r in report.records] == [("7", "new"), ("8", "x")]
    assert report.duplicates == [(3, "7", 1)] and report.rows == 3


# -- ids that only look alike are different tickets ------------------------------------------------------
@pytest.mark.parametrize(("first", "second"), [("007", "7"), ("\u0663", "3"), ("1_000", "1000"), ("+4", "4"),
                                               ("1e3", "1000")])
def test_ids_that_only_look_alike_are_two_tickets(tmp_path: Path, first: str, second: str) -> None:
    csv_path = tmp_path / "t.csv"
    csv_path.write_text(f"id,subject\n{first},first\n{second},second\n", encoding="utf-8")
    jsonl_path = tmp_path / "t.jsonl"
    jsonl_path.write_text(json.dumps({"id": first, "subject": "first"}, ensure_ascii=False) + "\n"
                          + json.dumps({"id": second, "subject": "second"}) + "\n", encoding="utf-8")
    for path in (csv_path, jsonl_path):
        report = read_tickets(path)
        assert [(r["id"], r["subject"]) for r in report.records] == [(first, "first"), (second, "second")]
        assert report.duplicates == []


def test_a_number_and_the_same_number_with_point_zero_are_one_ticket(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 4, "subject": "a"}\n{"id": 4.0, "subject": "b"}\n{"id": " 4.0 ", "subject": "c"}\n',
                    encoding="utf-8")
    report = read_tickets(path)
    assert [(r["id"], r["subject"]) for r in report.records] == [("4", "c")]
    assert report.duplicates == [(2, "4", 1), (3, "4", 2)]


def test_conversations_with_ids_that_only_look_alike_are_two(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    part = {"author": "customer", "body": "hi"}
    path.write_text("\n".join(json.dumps({"id": i, "parts": [part]}) for i in ("007", 7, "\u0663", 3, 3.0)) + "\n",
                    encoding="utf-8")
    report = read_conversations(path)
    assert [r["id"] for r in report.records] == ["007", "7", "\u0663", "3"]
    assert report.duplicates == [(5, "3", 4)]


# -- text is kept as written; HTML is reduced only where a row says so ---------------------------------
LOOKS_LIKE_HTML = 'Use <script src=x> to load the widget, then <br> shows "error <b>42</b>" & <p>nothing else'


def test_plain_text_that_only_looks_like_html_is_stored_as_written(tmp_path: Path) -> None:
    csv_path = tmp_path / "t.csv"
    quoted = LOOKS_LIKE_HTML.replace('"', '""')
    csv_path.write_text(f'id,subject,description\n1,"Why <br> tags?","{quoted}\nsecond line"\n', encoding="utf-8")
    jsonl_path = tmp_path / "t.jsonl"
    jsonl_path.write_text(json.dumps({"id": 1, "subject": "Why <br> tags?",
                                      "description": f"{LOOKS_LIKE_HTML}\nsecond line"}) + "\n", encoding="utf-8")
    for path in (csv_path, jsonl_path):
        [record] = read_tickets(path).records
        assert record["subject"] == "Why <br> tags?"
        assert record["description"] == f"{LOOKS_LIKE_HTML}\nsecond line"


@pytest.mark.parametrize("hint", [{"format": "html"}, {"format": "HTML"}, {"content_type": "text/html"}])
def test_a_row_declared_html_is_reduced_to_text(tmp_path: Path, hint: dict[str, str]) -> None:
    path = tmp_path / "t.jsonl"
    rows = [{"id": 1, "subject": "Crash <b>now</b>", "description": "<p>App &amp; <b>crash</b></p><p>Again</p>",
             **hint}, {"id": 2, "subject": "Plain", "description": "<p>App &amp; crash</p>", "format": "text"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    first, second = read_tickets(path).records
    assert first["description"] == "App & crash\n\nAgain"
    assert first["subject"] == "Crash <b>now</b>"  # a subject is plain text whatever the body is
    assert second["description"] == "<p>App &amp; crash</p>"


def test_a_csv_format_column_applies_to_its_row_only(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,subject,description,format\n1,a,<p>x &amp; y</p>,html\n2,b,<p>x &amp; y</p>,\n"
                    "3,c,<p>x</p>,markdown\n", encoding="utf-8")
    report = read_tickets(path)
    assert [r["description"] for r in report.records] == ["x & y", "<p>x &amp; y</p>"]
    assert report.errors == [(4, "format 'markdown' is not html or text (leave it out for plain text)")]


def test_only_nul_is_removed_from_a_plain_description(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"id": 1, "subject": "a", "description": "x\u0000<y>\u00a0\t z"}) + "\n",
                    encoding="utf-8")
    assert read_tickets(path).records[0]["description"] == "x<y>\u00a0\t z"


def test_a_conversation_part_is_kept_as_written_unless_declared_html(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    plain = {"author": "customer", "body": LOOKS_LIKE_HTML}
    html = {"author": "customer", "body": "<p>Hi &amp; bye</p>", "format": "html"}
    rows = [{"id": 1, "title": "Why <br>?", "parts": [plain, html]},
            {"id": 2, "format": "html", "parts": [{"author": "customer", "body": "<p>a</p><p>b</p>"},
                                                  {**plain, "format": "text"}]}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    first, second = read_conversations(path).records
    assert first["title"] == "Why <br>?"
    assert [p["body"] for p in first["parts"]] == [LOOKS_LIKE_HTML, "Hi & bye"]
    assert [p["body"] for p in second["parts"]] == ["a\n\nb", LOOKS_LIKE_HTML]


def test_a_conversation_with_an_unknown_format_is_refused_by_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": 1, "parts": [{"author": "customer", "body": "x", "format": "rtf"}]}) + "\n"
                    + json.dumps({"id": 2, "format": 3, "parts": [{"author": "customer", "body": "x"}]}) + "\n",
                    encoding="utf-8")
    report = read_conversations(path)
    assert [line for line, _ in report.errors] == [1, 2]
    assert report.errors[0][1].startswith("has part 1 format 'rtf', which is not html or text")
    assert report.errors[1][1].startswith("has format '3', which is not html or text")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("row", "field"), [
    ({"id": 2, "subject": "bad \ud800 one"}, "subject"),
    ({"id": 2, "subject": "ok", "requester_name": "Ana \udfff"}, "requester_name"),
    ({"id": 2, "subject": "ok", "tags": ["fine", "\udc00"]}, "tags[1]"),
    ({"id": "2\ud800", "subject": "ok"}, "id"),
    ({"id": 2, "subject": "ok", "\ud800": "x"}, "\\ud800"),
])
def test_a_json_row_with_a_lone_surrogate_is_skipped_by_line_naming_the_field(tmp_path: Path, row: dict[str, Any],
                                                                              field: str) -> None:
    # JSON's \ud800 escape gives text no store can encode: it made the whole import fail with a traceback.
    lines = [json.dumps({"id": 1, "subject": "fine"}), json.dumps(row), json.dumps({"id": 3, "subject": "fine"})]
    report = read_tickets(_write(tmp_path, "t.jsonl", "\n".join(lines)))
    assert [r["id"] for r in report.records] == ["1", "3"]
    [(line, reason)] = report.errors
    assert line == 2 and "lone surrogate" in reason and reason.startswith(f"{field} "), reason


def test_an_id_longer_than_the_store_s_id_columns_is_a_bad_row(tmp_path: Path) -> None:
    # 200 is the width of the id columns triage and the inbox write (PostgreSQL refuses a longer one).
    lines = [json.dumps({"id": "7" * 200, "subject": "fits"}), json.dumps({"id": "x" * 201, "subject": "too long"})]
    report = read_tickets(_write(tmp_path, "t.jsonl", "\n".join(lines)))
    assert [r["id"] for r in report.records] == ["7" * 200]
    assert report.errors == [(2, "has an id longer than 200 characters")]


@pytest.mark.parametrize("conversation", [
    {"id": "c2", "title": "t \ud800", "parts": [{"author": "customer", "body": "hi"}]},
    {"id": "c2", "parts": [{"author": "customer", "body": "hi \udc00"}]},
    {"id": "c\udc002", "parts": [{"author": "customer", "body": "hi"}]},
    {"id": "c" * 201, "parts": [{"author": "customer", "body": "hi"}]},
])
def test_a_conversation_the_store_cannot_hold_is_skipped_by_line(tmp_path: Path, conversation: dict[str, Any]) -> None:
    good = {"id": "c1", "parts": [{"author": "customer", "body": "fine"}]}
    report = read_conversations(_write(tmp_path, "c.jsonl", json.dumps(good) + "\n" + json.dumps(conversation)))
    assert [r["id"] for r in report.records] == ["c1"]
    [(line, reason)] = report.errors
    assert line == 2 and ("lone surrogate" in reason or "longer than 200" in reason), reason


def test_a_tickets_later_messages_are_imported_once_and_listed_after_its_description(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    thread = [{"author": "agent", "body": "Try again?"},
              {"author": "customer", "body": "Still broken", "created_at": "2026-11-01T11:00:00Z"}]
    rows = [{"id": 1, "subject": "Crash", "description": "It crashes", "messages": thread},
            {"id": 2, "subject": "Bad", "description": "x", "messages": [{"author": "robot", "body": "hi"}]},
            {"id": 3, "subject": "Bad", "description": "x", "messages": "Still broken"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    report = read_tickets(path)
    assert [r["id"] for r in report.records] == ["1"]
    assert "message 1 has author 'robot'; use customer or agent" in report.errors[0][1]
    assert "messages must be a list" in report.errors[1][1]
    helpdesk = LocalHelpdesk(tmp_path / "helpdesk.db")
    assert helpdesk.upsert(report.records).created == 1
    assert helpdesk.upsert(report.records).unchanged == 1  # the same thread again: nothing new
    ticket = run(helpdesk.get("1"))
    assert [(m.author.value, m.body) for m in ticket.messages] == [
        ("customer", "It crashes"), ("agent", "Try again?"), ("customer", "Still broken")]
    assert helpdesk.notes("1") == []  # the thread is not frontline's notes
    more = {**report.records[0], "messages": [*thread, {"author": "customer", "body": "Any news?"}]}
    assert helpdesk.upsert([more]).updated == 1  # a new message lists the ticket again
    assert run(helpdesk.list_changed("1", 10)).items[0].messages[-1].body == "Any news?"
