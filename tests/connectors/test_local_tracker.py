"""The embedded tracker: issues in SQLite, each readable as a markdown file in the workspace."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from frontline.config import Settings
from frontline.connectors.local.tracker import LocalTracker
from frontline.errors import ConnectorError, NotFoundError
from frontline.model import IssueDraft
from frontline.ports import Diagnosable, Tracker
from tests.helpers import run


def draft(marker: str = "fl-aaaaaaaaaaaaaaaaaaaa", **changes: Any) -> IssueDraft:
    values: dict[str, Any] = {"title": "Acme: checkout\nfails", "labels": ("escalation", "billing"),
                                 "project": "Checkout", "priority": "P0",
                                 "body": f"**P0 escalation** from Acme.\n\nfrontline marker: `{marker}`"}
    values.update(changes)
    return IssueDraft(marker=marker, **values)


def opened(url: str) -> Path:
    """The file a ``file://`` URL points at."""
    parsed = urlparse(url)
    assert parsed.scheme == "file"
    return Path(unquote(parsed.path))


@pytest.fixture
def tracker(tmp_path: Path) -> LocalTracker:
    """A tracker in a fresh folder."""
    return LocalTracker(tmp_path / "tracker.db", tmp_path / "issues")


def test_it_is_a_tracker_that_can_check_itself(tracker: LocalTracker) -> None:
    assert isinstance(tracker, Tracker) and isinstance(tracker, Diagnosable)


def test_an_issue_gets_an_identifier_and_a_file_url_people_can_open(tracker: LocalTracker) -> None:
    first = run(tracker.create_issue(draft()))
    second = run(tracker.create_issue(draft("fl-bbbbbbbbbbbbbbbbbbbb", priority="P1", labels=(), project=None)))
    assert (first.identifier, second.identifier) == ("ESC-1", "ESC-2")
    text = opened(first.url).read_text(encoding="utf-8")
    assert opened(first.url) == tracker.folder / "ESC-1.md"
    assert "# ESC-1: Acme: checkout fails" in text and "**P0 escalation** from Acme." in text
    assert 'state: "open"' in text and 'priority: "P0"' in text and 'labels: ["escalation", "billing"]' in text
    assert 'project: "Checkout"' in text and "fl-aaaaaaaaaaaaaaaaaaaa" in text
    [one, two] = tracker.list_issues()
    assert (one.labels, one.project, one.priority, two.project, two.priority) == (
        ("escalation", "billing"), "Checkout", "P0", None, "P1")


def test_find_issue_finds_only_an_open_issue_with_the_marker(tracker: LocalTracker) -> None:
    ref = run(tracker.create_issue(draft()))
    assert run(tracker.find_issue("fl-aaaaaaaaaaaaaaaaaaaa")) == ref
    assert run(tracker.find_issue("fl-cccccccccccccccccccc")) is None
    tracker.close_issue(ref.identifier)
    assert run(tracker.find_issue("fl-aaaaaaaaaaaaaaaaaaaa")) is None


def test_one_open_issue_per_marker_even_when_created_twice_at_once(tracker: LocalTracker) -> None:
    async def twice() -> list[str]:
        refs = await asyncio.gather(tracker.create_issue(draft()), tracker.create_issue(draft()))
        return [r.identifier for r in refs]

    assert run(twice()) == ["ESC-1", "ESC-1"]
    assert len(tracker.list_issues()) == 1


def test_closing_updates_the_file_and_a_new_escalation_gets_a_new_issue(tracker: LocalTracker) -> None:
    ref = run(tracker.create_issue(draft()))
    closed = tracker.close_issue("esc-1")
    assert closed.state == "closed" and closed.closed_at
    assert 'state: "closed"' in opened(ref.url).read_text(encoding="utf-8")
    assert tracker.close_issue(ref.id).closed_at == closed.closed_at  # closing twice changes nothing
    again = run(tracker.create_issue(draft()))
    assert again.identifier == "ESC-2"
    assert [i.identifier for i in tracker.list_issues("open")] == ["ESC-2"]
    assert [i.identifier for i in tracker.list_issues("closed")] == ["ESC-1"]
    with pytest.raises(NotFoundError, match="ESC-9"):
        tracker.close_issue("ESC-9")


def test_a_body_without_the_marker_gets_it(tracker: LocalTracker) -> None:
    ref = run(tracker.create_issue(draft("fl-dddddddddddddddddddd", body="Customer is angry.")))
    assert "fl-dddddddddddddddddddd" in tracker.get(ref.identifier).body
    assert run(tracker.find_issue("fl-dddddddddddddddddddd")) == ref


def test_issues_survive_a_restart_in_the_workspace_from_settings(settings: Settings) -> None:
    tracker = LocalTracker.from_settings(settings)
    ref = run(tracker.create_issue(draft()))
    run(tracker.aclose())
    reopened = LocalTracker.from_settings(settings)
    assert reopened.path == settings.path("tracker.db") and reopened.folder == settings.path("issues")
    assert run(reopened.find_issue("fl-aaaaaaaaaaaaaaaaaaaa")) == ref
    assert run(reopened.create_issue(draft("fl-eeeeeeeeeeeeeeeeeeee"))).identifier == "ESC-2"
    run(reopened.aclose())


def test_diagnose_counts_issues_and_says_where_they_are(tracker: LocalTracker) -> None:
    run(tracker.create_issue(draft()))
    run(tracker.create_issue(draft("fl-ffffffffffffffffffff")))
    tracker.close_issue("ESC-1")
    [check] = run(tracker.diagnose())
    assert check.ok and check.connector == "tracker local"
    assert "1 open and 1 closed" in check.detail and str(tracker.folder) in check.detail
    assert tracker.counts() == {"open": 1, "closed": 1}


def test_an_unwritable_folder_fails_the_issue_and_files_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "issues"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    tracker = LocalTracker(tmp_path / "tracker.db", blocked)
    with pytest.raises(ConnectorError, match="could not file the issue"):
        run(tracker.create_issue(draft()))
    assert tracker.list_issues() == []
