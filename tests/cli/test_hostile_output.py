"""Text from tickets, conversations, articles and files is printed as written, never read as markup or
terminal control: a ticket id `[/]` or a subject holding an ANSI escape cannot crash or repaint a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from frontline.cli import cli, kb, run, tickets  # noqa: F401  (registers the commands)

HOSTILE = "[/] [bold red]loud[/bold red] \x1b[31mred\x1b[0m a\rb \x07bell \x9bc1"
RAW_CONTROLS = ("\x1b", "\r", "\x07", "\x9b")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project using the rules classifier, as the current directory."""
    (tmp_path / "frontline.toml").write_text(
        f'[local]\nworkspace = "{(tmp_path / "ws").as_posix()}"\nkb_dir = "{(tmp_path / "kb").as_posix()}"\n'
        'echo = false\n[classifier]\nkind = "rules"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_inert(output: str) -> None:
    """No control character of the data reached the console."""
    for raw in RAW_CONTROLS:
        assert raw not in output, f"{raw!r} reached the console: {output!r}"


def test_safe_keeps_markup_and_control_characters_visible_and_inert() -> None:
    from frontline.cli.common import safe

    shown = safe(HOSTILE)
    assert_inert(shown)
    assert "\\x1b[31mred" in shown and "a\\rb" in shown and "\\x07bell" in shown and "\\x9bc1" in shown
    from rich.console import Console

    console = Console(record=True, width=400, color_system=None)
    console.print(shown)
    assert console.export_text().strip() == HOSTILE.replace("\x1b", "\\x1b").replace("\r", "\\r").replace(
        "\x07", "\\x07").replace("\x9b", "\\x9b")


def test_safe_shows_bidi_overrides_and_lone_surrogates_instead_of_printing_them() -> None:
    from frontline.cli.common import safe

    assert safe("abc\u202edcba\ud800") == "abc\\u202edcba\\ud800"
    assert safe("multi\nline") == "multi\\nline"


def test_a_run_over_hostile_tickets_completes_and_prints_them_inert(project: Path) -> None:
    rows = [{"id": f"{HOSTILE} {n}", "subject": HOSTILE, "description": "I forgot my password " + HOSTILE,
             "requester_name": HOSTILE, "requester_email": "a@example.com", "company": HOSTILE} for n in (1, 2)]
    (project / "tickets.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    imported = invoke("import", "tickets", "tickets.jsonl")
    assert imported.exit_code == 0, imported.output
    triaged = invoke("run", "triage")
    assert triaged.exit_code == 0, triaged.output
    assert "2 handled" in triaged.output
    assert_inert(triaged.output)
    assert "#[/] [bold red]loud[/bold red] \\x1b[31mred" in triaged.output


def test_kb_search_prints_a_hostile_article_inert(project: Path) -> None:
    folder = project / "kb"
    folder.mkdir()
    (folder / "evil.md").write_text(f"---\ntitle: Password {HOSTILE}\nurl: https://h/[/]\x1b[2J\n---\n"
                                    f"Reset your password here {HOSTILE}.\n", encoding="utf-8")
    assert invoke("kb", "index", str(folder)).exit_code == 0
    found = invoke("kb", "search", "password")
    assert found.exit_code == 0, found.output
    assert_inert(found.output)
    assert "Password [/] [bold red]loud[/bold red]" in found.output and "https://h/[/]\\x1b[2J" in found.output


def test_import_errors_print_hostile_ids_and_file_names_inert(project: Path) -> None:
    name = "[bold]\x1b[31m.jsonl"  # a file name cannot hold a slash
    rows = [{"id": HOSTILE, "subject": "a"}, {"id": HOSTILE, "subject": "b"}, {"subject": "no id"}]
    (project / name).write_text("".join(json.dumps(row) + "\n" for row in rows) + "[/] \x1b[31m\n",
                                encoding="utf-8")
    imported = invoke("import", "tickets", name)
    assert imported.exit_code == 1, imported.output  # two rows skipped
    assert_inert(imported.output)
    assert "[bold]\\x1b[31m.jsonl:2" in imported.output and "also on line 1" in imported.output


def test_an_escalation_run_over_a_hostile_conversation_prints_it_inert(project: Path) -> None:
    conversation = {
        "id": f"c{HOSTILE}", "title": HOSTILE, "state": "open", "contact": {"name": HOSTILE, "email": "a@b.example"},
        "company": {"name": HOSTILE, "plan": "enterprise", "mrr": 9000},
        "parts": [{"author": "customer", "body": "The export is broken again.", "created_at": "2026-11-18T09:00:00Z"},
                  {"author": "customer", "body": f"This is unacceptable, I want a refund or I'm cancelling. {HOSTILE}",
                   "created_at": "2026-11-19T09:00:00Z"}],
    }
    (project / "conversations.jsonl").write_text(json.dumps(conversation) + "\n", encoding="utf-8")
    assert invoke("import", "conversations", "conversations.jsonl").exit_code == 0
    escalated = invoke("run", "escalate")
    assert escalated.exit_code == 0, escalated.output
    assert "1 escalated" in escalated.output
    assert_inert(escalated.output)
    assert "conversation c[/] [bold red]loud[/bold red] \\x1b[31mred" in escalated.output


def test_the_outbox_echo_prints_a_hostile_alert_inert(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from frontline.config import load_settings
    from frontline.connectors.local.outbox import OutboxChat
    from frontline.model import ChatMessage

    settings = load_settings(project / "frontline.toml", overrides={("local", "echo"): True})
    chat = OutboxChat.from_settings(settings)
    asyncio.run(chat.post("#support", ChatMessage(text=f"P1 {HOSTILE} from {HOSTILE}\nmore"), "fl-1"))
    asyncio.run(chat.aclose())
    printed = capsys.readouterr().out
    assert_inert(printed)
    assert "\\x1b[31mred" in printed


def test_an_error_naming_a_hostile_file_is_one_inert_sentence(project: Path) -> None:
    result = CliRunner().invoke(cli, ["import", "tickets", "missing\x1b[2J[/].jsonl"])
    assert result.exit_code != 0
    assert_inert(result.output)
    assert "missing\\x1b[2J[/].jsonl" in result.output and "Traceback" not in result.output
