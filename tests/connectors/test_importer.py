"""Importing tickets from CSV and JSONL: bad rows by line, HTML reduced, encodings handled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontline.connectors.local.importer import read_tickets
from frontline.errors import DataFileError


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
    assert first["description"] == "App & crash"
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
