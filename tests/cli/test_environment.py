"""Environment mistakes (a bad database URL, an unusable workspace) are one sentence, never a traceback."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

# Importing the command modules registers their commands on `cli`.
from frontline.cli import cli, doctor, kb, model, run, serve, state, tickets, worker  # noqa: F401

# Every command that opens the workspace or the state store, with what it needs to get that far.
OPENING = [
    ["run", "triage"],
    ["run", "escalate"],
    ["import", "tickets", "tickets.jsonl"],
    ["kb", "index", "kb"],
    ["kb", "search", "password"],
    ["state", "show", "1"],
    ["state", "forget", "1"],
    ["train", "--from-helpdesk"],
    ["serve"],
    ["worker", "--once"],
]
STORE = [["run", "triage"], ["run", "escalate"], ["state", "show", "1"], ["serve"], ["worker", "--once"]]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a KB, tickets and the rules classifier, as the current directory; no frontline.toml."""
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "reset.md").write_text("---\ntitle: Reset\n---\nForgot your password?\n", encoding="utf-8")
    (tmp_path / "tickets.jsonl").write_text('{"id": 1, "subject": "Locked out", "description": "password"}\n',
                                            encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FRONTLINE_CLASSIFIER", "rules")
    monkeypatch.setenv("FRONTLINE_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("FRONTLINE_DATABASE_URL", raising=False)
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def assert_one_sentence(result: Result, exit_code: int, *expected: str) -> str:
    """The command stopped with ``exit_code`` and one error line holding ``expected``, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    for text in expected:
        assert text in errors[0], errors[0]
    return errors[0]


# -- the database URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args", STORE, ids=" ".join)
def test_a_database_url_that_is_not_a_url_says_so(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                 args: list[str]) -> None:
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", "garbage")
    line = assert_one_sentence(invoke(*args), 2, "FRONTLINE_DATABASE_URL", "is not a database URL",
                               "sqlite:///", "postgresql://USER@HOST")
    assert "garbage" not in line  # a value that is not a URL may be a credential typed in the wrong place


@pytest.mark.parametrize("scheme", ["mysql", "mssql+pyodbc", "oracle", "mariadb"])
def test_an_unsupported_database_says_which_are_supported(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                          scheme: str) -> None:
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", f"{scheme}://admin:hunter2@db.example.com/support")
    line = assert_one_sentence(invoke("state", "show", "1"), 2, "FRONTLINE_DATABASE_URL",
                               "supports SQLite and PostgreSQL", "sqlite:///", "postgresql://")
    assert "hunter2" not in line and "frontline[postgres]" not in line


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_postgresql_without_its_driver_names_the_postgres_extra(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                                scheme: str) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the `postgres` extra were not installed
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", f"{scheme}://admin:hunter2@db.example.com/support")
    line = assert_one_sentence(invoke("state", "show", "1"), 2, "pip install 'frontline[postgres]'")
    assert "hunter2" not in line


def test_a_sqlite_database_url_works(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", f"sqlite:///{project / 'elsewhere' / 'state.db'}")
    result = invoke("state", "show", "1")
    assert result.exit_code == 1 and "Nothing stored for 1" in result.output
    assert (project / "elsewhere" / "state.db").is_file()


def test_doctor_reports_a_bad_database_url_in_one_line(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", "mysql://admin:hunter2@db/support")
    result = invoke("doctor")
    assert "Traceback" not in result.output and "hunter2" not in result.output
    state_line = next(line for line in result.output.splitlines() if "state" in line.split()[:2])
    assert "supports SQLite and PostgreSQL" in state_line


# -- the workspace ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", OPENING, ids=" ".join)
def test_a_workspace_under_a_file_is_one_sentence(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                  args: list[str]) -> None:
    (project / "notes.txt").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("FRONTLINE_WORKSPACE", str(project / "notes.txt" / "ws"))
    assert_one_sentence(invoke(*args), 2, str(project / "notes.txt"), "is a file, not a folder",
                        "FRONTLINE_WORKSPACE")


@pytest.mark.parametrize("args", [["state", "show", "1"], ["kb", "search", "password"]], ids=" ".join)
def test_a_workspace_that_is_a_file_is_one_sentence(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                    args: list[str]) -> None:
    (project / "notes.txt").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("FRONTLINE_WORKSPACE", str(project / "notes.txt"))
    assert_one_sentence(invoke(*args), 2, str(project / "notes.txt"), "is a file, not a folder")


def test_the_workspace_set_in_the_config_file_is_checked_too(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "notes.txt").write_text("not a folder", encoding="utf-8")
    (project / "frontline.toml").write_text(f'[local]\nworkspace = "{(project / "notes.txt" / "ws").as_posix()}"\n',
                                            encoding="utf-8")
    monkeypatch.delenv("FRONTLINE_WORKSPACE")
    assert_one_sentence(invoke("run", "triage"), 2, "is a file, not a folder", "[local]")


@pytest.mark.parametrize("args", [["run", "triage"], ["import", "tickets", "tickets.jsonl"], ["worker", "--once"]],
                         ids=" ".join)
def test_a_workspace_behind_a_broken_link_is_one_sentence(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                          args: list[str]) -> None:
    (project / "gone").symlink_to(project / "nowhere")
    monkeypatch.setenv("FRONTLINE_WORKSPACE", str(project / "gone" / "ws"))
    assert_one_sentence(invoke(*args), 2, str(project / "gone"), "symbolic link")


def _refuse_under(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Creating anything under ``folder`` fails with "Permission denied", as for another user's folder."""
    real_mkdir, real_open = os.mkdir, os.open

    def guarded(path: Any) -> None:
        if Path(path).is_relative_to(folder):
            raise PermissionError(13, "Permission denied", str(path))

    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        guarded(path)
        real_mkdir(path, *args, **kwargs)

    def open_(path: Any, *args: Any, **kwargs: Any) -> int:
        guarded(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", open_)


@pytest.mark.parametrize("args", [["run", "triage"], ["kb", "index", "kb"], ["state", "show", "1"],
                                  ["import", "tickets", "tickets.jsonl"]], ids=" ".join)
def test_a_workspace_without_permission_is_one_sentence(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                        args: list[str]) -> None:
    locked = project / "locked"
    locked.mkdir()
    monkeypatch.setenv("FRONTLINE_WORKSPACE", str(locked / "ws"))
    _refuse_under(monkeypatch, locked)
    assert_one_sentence(invoke(*args), 2, str(locked / "ws"), "permission denied", "FRONTLINE_WORKSPACE")


def test_a_folder_where_a_database_file_belongs_is_one_sentence(project: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "ws" / "helpdesk.db").mkdir(parents=True)
    assert_one_sentence(invoke("import", "tickets", "tickets.jsonl"), 2, str(project / "ws" / "helpdesk.db"),
                        "is a folder, not a file")


def test_a_workspace_file_that_is_not_a_database_is_one_sentence(project: Path) -> None:
    (project / "ws").mkdir()
    (project / "ws" / "kb.db").write_text("my notes, not SQLite", encoding="utf-8")
    assert_one_sentence(invoke("kb", "search", "password"), 2, str(project / "ws" / "kb.db"),
                        "SQLite cannot open it")


def test_doctor_reports_an_unusable_workspace_without_exception_names(project: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "notes.txt").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("FRONTLINE_WORKSPACE", str(project / "notes.txt" / "ws"))
    result = invoke("doctor")
    assert "Traceback" not in result.output and "NotADirectoryError" not in result.output
    assert "is a file, not a folder" in result.output
