"""The CLI's shared helpers: progress of long work on stderr."""

from __future__ import annotations

import pytest

from frontline.cli.common import ProgressReport


def test_off_a_terminal_each_of_a_few_steps_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressReport("training") as report:
        for fold in range(1, 4):
            report(f"fold {fold}/3 done", fold, 3)
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"training: fold {fold}/3 done" for fold in (1, 2, 3)]
    assert captured.out == ""


def test_off_a_terminal_many_steps_are_told_at_each_tenth_not_each_row(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressReport("eval") as report:
        for done in range(1, 1001):
            report(f"{done} of 1000", done, 1000)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["eval: 1 of 1000", *(f"eval: {done} of 1000" for done in range(100, 1001, 100))]


def test_without_plain_lines_nothing_is_printed_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressReport("triage", plain=False) as report:
        report("", 1, 2)
    assert capsys.readouterr().err == ""


def test_on_a_terminal_a_bar_is_drawn_and_taken_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    report = ProgressReport("training")
    report("fold 1/3 done", 1, 3)
    assert report._bar is not None and report._bar.tasks[0].completed == 1
    assert report._bar.tasks[0].description == "training: fold 1/3 done"
    report.close()
    assert report._bar is None
