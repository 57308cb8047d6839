"""The embedded knowledge base indexes the regular files inside its folder, and only those, once each."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
from pathlib import Path

import pytest

from frontline.connectors.local.kb import IndexReport, LocalKnowledgeBase
from tests.helpers import make_settings


def article(folder: Path, name: str, title: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    return path


def titles(kb: LocalKnowledgeBase, query: str) -> list[str]:
    return [hit.title for hit in asyncio.run(kb.search(query, 10))]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A KB folder with one article, beside a private folder holding a markdown file of its own."""
    kb = tmp_path / "kb"
    article(kb, "reset.md", "Reset your password", "Use the reset link on the login page.")
    article(tmp_path / "private", "salaries.md", "Salaries", "Confidential payroll figures for the password team.")
    return kb


def test_a_symbolic_link_to_a_file_outside_the_folder_is_skipped_and_named(folder: Path, tmp_path: Path) -> None:
    (folder / "leak.md").symlink_to(tmp_path / "private" / "salaries.md")
    kb = LocalKnowledgeBase(tmp_path / "kb.db")
    report = kb.index(folder)
    assert (report.added, report.total) == (1, 1)
    assert report.skipped == ("leak.md",)
    assert "Salaries" not in titles(kb, "password payroll")


def test_a_symbolic_link_to_a_folder_is_not_followed(folder: Path, tmp_path: Path) -> None:
    (folder / "shared").symlink_to(tmp_path / "private", target_is_directory=True)
    (folder / "inside").symlink_to(folder, target_is_directory=True)  # a loop, and a second copy of every article
    kb = LocalKnowledgeBase(tmp_path / "kb.db")
    report = kb.index(folder)
    assert report.total == 1 and sorted(report.skipped) == ["inside", "shared"]
    assert titles(kb, "password payroll") == ["Reset your password"]


def test_a_link_that_was_indexed_before_is_pruned(folder: Path, tmp_path: Path) -> None:
    kb = LocalKnowledgeBase(tmp_path / "kb.db")
    kb.index(folder)
    # An index written by an earlier version, which followed the link and keyed it by its target.
    kb._db.execute("INSERT INTO articles (path, title, url, body, mtime) VALUES (?, 'Salaries', 'file:///x', "
                   "'Confidential payroll figures', 1.0)", (str((tmp_path / "private" / "salaries.md").resolve()),))
    (folder / "leak.md").symlink_to(tmp_path / "private" / "salaries.md")
    report = kb.index(folder)
    assert (report.removed, report.total) == (1, 1)
    assert titles(kb, "payroll") == []


def test_a_named_pipe_is_skipped_instead_of_blocking_the_index(folder: Path, tmp_path: Path) -> None:
    pipe = folder / "pipe.md"
    os.mkfifo(pipe)
    kb = LocalKnowledgeBase(tmp_path / "kb.db")
    reports: list[IndexReport] = []
    worker = threading.Thread(target=lambda: reports.append(kb.index(folder)), daemon=True)
    worker.start()
    worker.join(10)
    try:
        assert not worker.is_alive(), "indexing blocked reading a named pipe"
    finally:
        with contextlib.suppress(OSError):  # let a blocked reader go
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
    assert reports[0].total == 1 and reports[0].skipped == ("pipe.md",)


def test_a_copied_workspace_and_kb_do_not_double_the_articles(folder: Path, tmp_path: Path) -> None:
    article(folder, "guides/billing.md", "Update payment method", "Change the credit card used for invoices.")
    first = tmp_path / "first"
    first.mkdir()
    shutil.move(folder, first / "kb")
    kb = LocalKnowledgeBase(first / "kb.db")
    assert kb.index(first / "kb").total == 2
    asyncio.run(kb.aclose())
    copy = tmp_path / "copy"
    shutil.copytree(first, copy)  # modification times kept, as `cp -a` and backups do
    moved = LocalKnowledgeBase(copy / "kb.db")
    report = moved.index(copy / "kb")
    assert (report.added, report.removed, report.total) == (0, 0, 2)
    hits = asyncio.run(moved.search("change the credit card", 3))
    assert hits[0].url == (copy / "kb" / "guides" / "billing.md").resolve().as_uri()  # the copy's, not the original's


def test_indexing_another_folder_replaces_the_first_one(folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    article(other, "refunds.md", "Refunds", "How to ask for a refund of a double charge.")
    kb = LocalKnowledgeBase(tmp_path / "kb.db")
    kb.index(folder)
    report = kb.index(other)
    assert (report.added, report.removed, report.total) == (1, 1, 1)
    assert titles(kb, "reset password refund") == ["Refunds"]


def test_a_deleted_kb_folder_empties_the_index_of_its_articles(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    settings = make_settings(tmp_path / "ws")  # its kb_dir is the folder beside the workspace
    kb = LocalKnowledgeBase.from_settings(settings)
    assert kb.count() == 1
    asyncio.run(kb.aclose())
    shutil.rmtree(folder)
    assert LocalKnowledgeBase.from_settings(settings).count() == 0


def test_kb_index_names_what_it_skipped(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from frontline.cli import cli, kb  # noqa: F401  (registers the command)

    (folder / "leak.md").symlink_to(tmp_path / "private" / "salaries.md")
    (tmp_path / "frontline.toml").write_text(f'[local]\nworkspace = "{(tmp_path / "ws").as_posix()}"\n',
                                             encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["kb", "index", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "1 added" in result.output and "Skipped 1" in result.output and "leak.md" in result.output
