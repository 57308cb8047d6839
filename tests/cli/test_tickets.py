"""`frontline import tickets|conversations`: the report a person reads after an import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

# Importing the command modules registers their commands on `cli`.
from frontline.cli import cli, tickets  # noqa: F401
from frontline.config import load_settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.model import WriteBack
from tests.helpers import run


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a frontline.toml, as the current directory."""
    (tmp_path / "frontline.toml").write_text(
        f'[local]\nworkspace = "{(tmp_path / "ws").as_posix()}"\necho = false\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


CSV = ("id,subject,description\n"
       "4,Zürich office,down\n"
       "5,Slow,very slow\n"
       ",no id,x\n").encode() + "6,Café crash,naïve\n".encode("cp1252") + b"4.0,Z\xc3\xbcrich office,still down\n"


def test_the_report_names_legacy_lines_and_duplicates_and_the_counts_add_up(project: Path) -> None:
    (project / "tickets.csv").write_bytes(CSV)
    first = invoke("import", "tickets", "tickets.csv")
    assert first.exit_code == 1, first.output  # a row was skipped: the rest is imported, the exit code says so
    lines = first.output.splitlines()
    assert "tickets.csv:4: skipped, row has no id" in lines
    assert "tickets.csv:5: decoded as Windows-1252 (not UTF-8)" in lines
    assert "tickets.csv:6: ticket 4 also on line 2; the later row wins" in lines
    summary = " ".join(first.output.split())
    assert "Imported 3 new, 0 updated and 0 unchanged tickets from tickets.csv" in summary
    assert "5 rows read: 3 imported, 1 duplicate replaced, 1 skipped" in summary
    assert "ZÃ" not in first.output


def test_importing_again_after_triage_reports_unchanged_tickets_and_keeps_triage(project: Path) -> None:
    path = project / "tickets.jsonl"
    path.write_text("\n".join(json.dumps({"id": n, "subject": f"S{n}", "description": "d"}) for n in (1, 2)) + "\n",
                    encoding="utf-8")
    assert "Imported 2 new, 0 updated and 0 unchanged" in invoke("import", "tickets", "tickets.jsonl").output
    helpdesk = LocalHelpdesk.from_settings(load_settings(project / "frontline.toml", dotenv=None))
    run(helpdesk.write_back([WriteBack("1", ("auto_category:bug",), "high", "note", "fl-1")]))
    again = invoke("import", "tickets", "tickets.jsonl")
    assert "Imported 0 new, 0 updated and 2 unchanged" in " ".join(again.output.split())
    ticket = run(helpdesk.get("1"))
    assert (ticket.tags, ticket.priority, ticket.status) == (("auto_category:bug",), "high", "open")


def test_conversations_report_duplicates_and_unchanged(project: Path) -> None:
    part = {"author": "customer", "body": "Grüße", "created_at": "2026-11-01T10:00:00Z"}
    path = project / "conversations.jsonl"
    path.write_text("\n".join(json.dumps({"id": n, "parts": [part]}) for n in (1, 2, 1)) + "\n", encoding="utf-8")
    first = " ".join(invoke("import", "conversations", "conversations.jsonl").output.split())
    assert "conversations.jsonl:3: conversation 1 also on line 1; the later line wins" in first
    assert "Imported 2 new, 0 updated and 0 unchanged conversations" in first
    assert "3 lines read: 2 imported, 1 duplicate replaced, 0 skipped" in first
    again = " ".join(invoke("import", "conversations", "conversations.jsonl").output.split())
    assert "Imported 0 new, 0 updated and 2 unchanged conversations" in again


def test_a_row_no_store_can_hold_is_skipped_by_line_and_the_rest_imported(project: Path) -> None:
    # A lone surrogate (JSON's \ud800 escape) made the whole import end in a UnicodeEncodeError traceback.
    rows = [{"id": 1, "subject": "fine"}, {"id": 2, "subject": "bad \ud800"}, {"id": 3, "subject": "fine"}]
    (project / "tickets.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "tickets", "tickets.jsonl"])
    assert result.exit_code == 1, result.output
    assert "tickets.jsonl:2: skipped, row subject is not valid Unicode" in result.output
    assert "3 rows read: 2 imported, 0 duplicates replaced, 1 skipped" in " ".join(result.output.split())
    helpdesk = LocalHelpdesk.from_settings(load_settings(project / "frontline.toml", dotenv=None))
    assert [run(helpdesk.get(str(n))).subject for n in (1, 3)] == ["fine", "fine"]
