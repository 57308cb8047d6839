"""The command line: the contract integrators script against."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

# Importing the command modules registers their commands on `cli`.
from frontline.cli import cli, demo, kb, main, model, run, serve, state, tickets  # noqa: F401


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a frontline.toml using the rules classifier, as the current directory."""
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    (kb_dir / "reset.md").write_text("---\ntitle: Reset your password\nurl: https://h/reset\n---\n"
                                     "Forgot your password? Use the reset link.\n", encoding="utf-8")
    (tmp_path / "frontline.toml").write_text(
        f'[local]\nworkspace = "{(tmp_path / "ws").as_posix()}"\nkb_dir = "{kb_dir.as_posix()}"\necho = false\n'
        '[classifier]\nkind = "rules"\n', encoding="utf-8")
    (tmp_path / "tickets.jsonl").write_text(
        '{"id": 1, "subject": "Locked out", "description": "I forgot my password"}\n'
        '{"id": 2, "subject": "Invoice", "description": "Refund the double charge on my invoice"}\n'
        "not json\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_import_run_and_state(project: Path) -> None:
    imported = invoke("import", "tickets", "tickets.jsonl")
    assert imported.exit_code == 1  # line 3 is no JSON: skipped by name, and the exit code says so
    assert "tickets.jsonl:3: skipped" in imported.output and "Imported 2 new" in imported.output
    first = invoke("run", "triage")
    assert first.exit_code == 0, first.output
    assert "#1 account_issue" in first.output and "2 handled" in first.output
    assert "0 handled" in invoke("run", "triage").output
    shown = invoke("state", "show", "1.0")
    assert json.loads(shown.output)["decisions"][0]["category"] == "account_issue"
    assert "Forgot 1" in invoke("state", "forget", "1").output
    again = invoke("run", "triage", "--quiet")
    assert "1 handled" in again.output  # forgotten tickets are fetched again even behind the cursor
    assert "0 handled" in invoke("run", "triage").output
    assert len(json.loads(invoke("state", "show", "1").output)["decisions"]) == 2


def test_dry_run_flag_writes_nothing(project: Path) -> None:
    invoke("import", "tickets", "tickets.jsonl")
    result = invoke("run", "triage", "--dry-run")
    assert "dry run" in result.output
    assert not (project / "ws" / "outbox.jsonl").exists()


def test_unknown_config_key_is_one_sentence_without_traceback(project: Path) -> None:
    (project / "frontline.toml").write_text("[routing]\nfallbak = '#x'\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "triage"])
    assert result.exit_code == 2
    assert "routing.fallbak" in result.output and "Traceback" not in result.output


def test_missing_model_is_explained(project: Path) -> None:
    invoke("import", "tickets", "tickets.jsonl")
    result = CliRunner().invoke(cli, ["run", "triage", "--classifier", "model"])
    assert result.exit_code == 1
    assert "No trained model" in result.output and "frontline train" in result.output


def test_missing_import_file_is_explained(project: Path) -> None:
    result = CliRunner().invoke(cli, ["import", "tickets", "nope.csv"])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_an_unreachable_llm_keeps_local_answers_and_says_so(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    invoke("import", "tickets", "tickets.jsonl")
    monkeypatch.setenv("FRONTLINE_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens on the discard port
    (project / "frontline.toml").write_text(
        (project / "frontline.toml").read_text().replace('kind = "rules"', 'kind = "cascade"')
        + "[llm]\nmax_retries = 0\n", encoding="utf-8")
    result = invoke("run", "triage")
    assert result.exit_code == 0, result.output
    assert "2 handled" in result.output and "LLM unavailable for 1" in result.output  # only the unsure ticket asks


def test_kb_search_finds_indexed_articles(project: Path) -> None:
    assert "1 added" in invoke("kb", "index", "kb").output
    result = invoke("kb", "search", "forgot", "password")
    assert "Reset your password" in result.output and "https://h/reset" in result.output


def test_state_show_unknown_item(project: Path) -> None:
    result = CliRunner().invoke(cli, ["state", "show", "999"])
    assert result.exit_code == 1 and "not been handled" in result.output


def test_poll_runs_cycles_and_survives_a_failing_one(project: Path) -> None:
    invoke("import", "tickets", "tickets.jsonl")
    result = invoke("poll", "--cycles", "2", "--interval", "0.05", "--quiet")
    assert result.exit_code == 0
    assert "Triage · cycle 1: 2 handled" in result.output and "Triage · cycle 2: nothing new." in result.output
    assert "Escalate · cycle 1: nothing new." in result.output  # no conversations imported: polled all the same
    (project / "frontline.toml").write_text(
        (project / "frontline.toml").read_text() + '[connectors]\nhelpdesk = "nowhere"\n', encoding="utf-8")
    broken = CliRunner().invoke(cli, ["poll", "--cycles", "1", "--interval", "0.05"])
    assert "names unknown connector 'nowhere'" in broken.output
    assert "Escalate · cycle 1: nothing new." in broken.output  # one flow failing does not stop the other


ANGRY_CONVERSATION = {
    "id": "c1", "title": "Export broken", "state": "open", "contact": {"name": "Ann", "email": "ann@acme.example"},
    "company": {"name": "Bigco", "plan": "enterprise", "mrr": 9000},
    "parts": [{"author": "customer", "body": "The export is broken again.", "created_at": "2026-11-18T09:00:00Z"},
              {"author": "agent", "body": "Looking into it!", "created_at": "2026-11-18T10:00:00Z"},
              {"author": "customer", "body": "This is unacceptable, I want a refund or I'm cancelling.",
               "created_at": "2026-11-19T09:00:00Z"}],
}


@pytest.fixture
def echoing(project: Path) -> Path:
    """The project with the outbox's console echo on (its default) and tickets and a conversation imported."""
    config = project / "frontline.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("echo = false\n", ""), encoding="utf-8")
    (project / "conversations.jsonl").write_text(json.dumps(ANGRY_CONVERSATION) + "\n", encoding="utf-8")
    assert invoke("import", "tickets", "tickets.jsonl").exit_code == 1  # its line 3 is skipped
    assert invoke("import", "conversations", "conversations.jsonl").exit_code == 0
    return project


def test_each_ticket_and_escalation_is_one_line(echoing: Path) -> None:
    triaged = invoke("run", "triage").output
    assert [line for line in triaged.splitlines() if "#1 " in line or "#2 " in line] == [
        line for line in triaged.splitlines() if line.startswith(("✓", "?", "✗"))]
    assert len([line for line in triaged.splitlines() if "#1 " in line]) == 1
    escalated = invoke("run", "escalate").output
    assert "1 escalated" in escalated
    assert len([line for line in escalated.splitlines() if "Bigco" in line or "conversation c1" in line]) == 1


def test_quiet_run_prints_only_the_summary(echoing: Path) -> None:
    triaged = invoke("run", "triage", "-q").output
    escalated = invoke("run", "escalate", "--quiet").output
    assert "2 handled" in triaged and "1 escalated" in escalated
    assert [line for line in (triaged + escalated).splitlines() if line and not line.startswith((
        "Triage", "Escalate", "  by ", "  signals"))] == []


def test_quiet_poll_prints_only_summaries(echoing: Path) -> None:
    polled = invoke("poll", "--cycles", "1", "--interval", "0.05", "-q").output
    assert "Triage · cycle 1: 2 handled" in polled and "1 escalated" in polled
    assert [line for line in polled.splitlines() if line and not line.startswith((
        "Triage", "Escalate", "SLA", "  by ", "  signals"))] == []
