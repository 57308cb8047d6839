"""The escalation queue: entered once per (source, item), open and unowned, references filled in later."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from frontline.store.escalations import Entering, EscalationQueue
from frontline.store.state import StateStore


@pytest.fixture
def queue(state_url: str) -> Iterator[EscalationQueue]:
    """The queue of a migrated, empty store on the backend under test."""
    store = StateStore.open(state_url)
    yield EscalationQueue(store.engine)
    store.close()


def test_the_migration_creates_the_queue_table(state_url: str) -> None:
    store = StateStore.open(state_url)
    columns = {c["name"] for c in inspect(store.engine).get_columns("escalations")}
    store.close()
    assert {"id", "source", "item_id", "reason", "priority", "state", "owner", "created_at", "tracker_ref",
            "alert_ref"} <= columns


def test_an_entry_is_open_and_unowned(queue: EscalationQueue) -> None:
    entry = queue.add("triage", "42", reason="P0 ticket", priority="P0", tracker_ref="ESC-1|file:///x|1")
    assert (entry.source, entry.item_id, entry.state, entry.owner) == ("triage", "42", "open", None)
    assert entry.created_at.tzinfo is not None
    assert queue.list(state="open") == [entry]


def test_entering_an_item_again_keeps_one_row_and_fills_in_what_it_lacked(queue: EscalationQueue) -> None:
    first = queue.add("triage", "42", reason="P0 ticket", priority="P0", tracker_ref="ESC-1")
    again = queue.add("triage", "42", reason="P1 later", priority="P1", tracker_ref="ESC-9", alert_ref="C1:1.2")
    assert again.id == first.id
    assert (again.reason, again.priority, again.tracker_ref, again.alert_ref) == ("P0 ticket", "P0", "ESC-1",
                                                                                  "C1:1.2")
    assert len(queue.list()) == 1


def test_one_item_from_two_flows_is_two_entries_listed_oldest_first(queue: EscalationQueue) -> None:
    now = datetime(2026, 1, 5, 9, tzinfo=UTC)
    queue.add("escalate", "7", reason="score 0.9", priority="P1", now=now)
    queue.add("triage", "7", reason="P0 ticket", priority="P0", now=now - timedelta(minutes=5))
    assert [e.source for e in queue.list()] == ["triage", "escalate"]
    assert [e.source for e in queue.list(source="escalate", item_ids=["7"])] == ["escalate"]
    assert queue.list(state="closed") == []


def test_a_page_entered_at_once_keeps_its_order_and_fills_in_what_known_rows_lacked(queue: EscalationQueue) -> None:
    first = queue.add("triage", "2", reason="P0 ticket", priority="P0")
    queue.add_many("triage", [Entering("1", "P0 ticket", "P0", "ESC-1"),
                              Entering("2", "P1 later", "P1", "ESC-2", "C:1"), Entering("3", "P1 ticket", "P1")])
    entries = {e.item_id: e for e in queue.list()}
    assert [e.item_id for e in queue.list()] == ["2", "1", "3"]
    assert entries["2"].id == first.id
    assert (entries["2"].reason, entries["2"].tracker_ref, entries["2"].alert_ref) == ("P0 ticket", "ESC-2", "C:1")
    assert (entries["1"].tracker_ref, entries["3"].priority) == ("ESC-1", "P1")
    queue.add_many("triage", [])
    assert len(queue.list()) == 3
