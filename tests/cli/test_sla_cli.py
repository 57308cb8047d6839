"""`frontline run sla` and the due times `state show` prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from frontline.cli import cli, run, state, tickets  # noqa: F401  (registers the commands)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace with two tickets imported, written today (their due times are ahead)."""
    (tmp_path / "frontline.toml").write_text(
        f'[local]\nworkspace = "{(tmp_path / "ws").as_posix()}"\nkb_dir = "{(tmp_path / "kb").as_posix()}"\n'
        'echo = false\n[classifier]\nkind = "rules"\n', encoding="utf-8")
    (tmp_path / "tickets.jsonl").write_text(
        '{"id": 1, "subject": "Locked out", "description": "I forgot my password"}\n'
        '{"id": 2, "subject": "Invoice", "description": "Refund the double charge on my invoice"}\n',
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_state_show_prints_the_due_times_and_run_sla_checks_them(project: Path) -> None:
    assert invoke("import", "tickets", "tickets.jsonl").exit_code == 0
    assert invoke("run", "triage").exit_code == 0
    sla = json.loads(invoke("state", "show", "1").output)["sla"]
    assert sla["first_response"]["source"] == "frontline" and sla["first_response"]["due"]
    assert sla["resolution"]["due"] > sla["first_response"]["due"]
    checked = invoke("run", "sla")
    assert checked.exit_code == 0, checked.output
    assert "SLA" in checked.output and "0 breached" in checked.output


def test_state_show_json_names_the_language_duplicates_and_incident_at_the_top(project: Path) -> None:
    (project / "more.jsonl").write_text(
        '{"id": 3, "subject": "Passwort vergessen", "description": "Ich kann mich nicht mehr anmelden, '
        'mein Passwort wird abgelehnt und die E-Mail zum Zurücksetzen kommt nie an."}\n', encoding="utf-8")
    assert invoke("import", "tickets", "more.jsonl").exit_code == 0
    assert invoke("run", "triage").exit_code == 0
    shown = json.loads(invoke("state", "show", "3", "--json").output)
    assert shown["language"] == "de"
    assert {"duplicates", "incident", "sla", "language"} <= set(shown)
