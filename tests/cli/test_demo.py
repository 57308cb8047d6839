"""`frontline demo`: the same command gives the same figures whenever it runs, one line per item."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest
from click.testing import CliRunner

# Importing the command modules registers their commands on `cli`.
from frontline.cli import cli, demo  # noqa: F401

# A Thursday night and a Sunday afternoon: the generator's hours and weekdays differ between them.
NIGHT = datetime(2026, 12, 3, 3, 17, tzinfo=UTC)
SUNDAY = datetime(2027, 2, 14, 15, 45, 30, tzinfo=UTC)
SMALL = ("--tickets", "30", "--conversations", "40", "--history", "300")
SUMMARY = re.compile(r"^(Triage|Escalate)\b|^  (by |signals|against|sent for|handled with|escalated with)")


def frozen_at(moment: datetime) -> type[datetime]:
    """A ``datetime`` whose ``now()`` is always ``moment``."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Frozen:
            local = moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)
            return cls.fromisoformat(local.isoformat())

    return Frozen


def run_demo(folder: Path, moment: datetime, *args: str, build: timedelta = timedelta(0)) -> str:
    """The demo's output as if the clock read ``moment``, and ``build`` later once the workspace is built.

    Paths and timings are made comparable.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("frontline.demo.workspace.datetime", frozen_at(moment))
        patch.setattr("frontline.flows.escalate.datetime", frozen_at(moment + build))
        result = CliRunner().invoke(cli, ["demo", "--dir", str(folder), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    output = result.output.replace(str(folder.resolve()), "DIR")
    return re.sub(r" in \d+\.\d+s( \([\d,]+/s\))?", " in Ts", output)


def issues(folder: Path) -> dict[str, str]:
    """The escalation issues the demo filed, by file name, without the moment each was filed."""
    return {path.name: re.sub(r"(?m)^created_at: .*$", "", path.read_text(encoding="utf-8")).replace(
        str(folder.resolve()), "DIR") for path in sorted((folder / "issues").glob("*.md"))}


def summary(output: str) -> list[str]:
    """The summary lines: counts by category, severity, priority and signal, escalated, precision."""
    return [line for line in output.splitlines() if SUMMARY.search(line)]


@pytest.fixture(scope="module")
def night_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the night's demo is built."""
    return tmp_path_factory.mktemp("night")


@pytest.fixture(scope="module")
def night(night_folder: Path) -> str:
    """A small demo's output, at night."""
    return run_demo(night_folder, NIGHT, *SMALL)


@pytest.fixture(scope="module")
def sunday_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the Sunday's demo is built."""
    return tmp_path_factory.mktemp("sunday")


@pytest.fixture(scope="module")
def sunday_quiet(sunday_folder: Path) -> str:
    """The same demo's quiet output, on a Sunday afternoon ten weeks later, scored three days after it was built."""
    return run_demo(sunday_folder, SUNDAY, *SMALL, "--quiet", build=timedelta(days=3))


def test_each_ticket_and_each_escalation_is_one_line(night: str) -> None:
    lines = night.splitlines()
    for number in range(1001, 1031):
        assert len([line for line in lines if re.search(rf"#{number}\b", line)]) == 1, number
    escalated = int(re.search(r"(\d+) escalated", night).group(1))  # type: ignore[union-attr]
    assert escalated > 0
    assert len([line for line in lines if "conversation 5" in line or "Escalation ·" in line]) == escalated


def test_quiet_prints_only_the_summaries(sunday_quiet: str) -> None:
    assert any(line.startswith("Escalate:") for line in summary(sunday_quiet))
    assert not re.search(r"#\d{4}\b|conversation 5\d{4}|↳|Escalation ·", sunday_quiet), sunday_quiet


def test_two_demos_at_different_times_give_the_same_figures(night: str, sunday_quiet: str, night_folder: Path,
                                                            sunday_folder: Path) -> None:
    assert len(summary(night)) >= 7  # triage by category and severity, escalations by priority and signal
    assert summary(night) == summary(sunday_quiet)
    # The same issues, down to the hours each conversation had been open when it was scored.
    filed = issues(night_folder)
    assert filed and any(re.search(r"open \d+ h", body) for body in filed.values())
    assert filed == issues(sunday_folder)


def test_a_demo_with_a_storm_opens_one_incident_for_it(tmp_path: Path) -> None:
    output = run_demo(tmp_path, NIGHT, *SMALL, "--storm", "12", "--quiet")
    assert re.search(r"incidents: 1 \(triage/\d+: 1[12] customers, 1[2-9] tickets\)", output), output
