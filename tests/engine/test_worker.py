"""`frontline worker` in one process: the fetcher role, the queue, settling entries, stopping.

Each test runs on SQLite and, when FRONTLINE_TEST_POSTGRES_URL is set, on PostgreSQL. Several worker
processes on one store are in ``test_worker_processes.py``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from frontline.cli.common import selected_teams
from frontline.cli.worker import open_lanes
from frontline.config import Settings
from frontline.connectors.local.conversations import LocalConversations, normalise_conversation
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.outbox import OutboxChat
from frontline.connectors.local.tracker import LocalTracker
from frontline.engine.fetcher import ROLE
from frontline.engine.worker import Worker, WorkerOptions, WorkerTotals, worker_id
from frontline.ports import Page
from frontline.store.inbox import Inbox
from frontline.store.schema import inbox as inbox_table
from frontline.store.state import StateStore
from tests.helpers import make_settings
from tests.postgres import fresh_schema, needs_postgres

TICKETS = [
    {"id": "1", "subject": "Cannot log in", "description": "I forgot my password and I'm locked out of my account"},
    {"id": "2", "subject": "Charged twice", "description": "Our invoice shows a double charge on the credit card"},
    {"id": "3", "subject": "Export crashes", "description": "The CSV export crashes with an error every time"},
    {"id": "4", "subject": "Idea", "description": "Feature request: it would be great to have dark mode"},
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def settings(request: pytest.FixtureRequest, workspace: Path) -> Iterator[Settings]:
    """Rules classifier on the embedded default; the state store on SQLite, or on PostgreSQL."""
    if request.param == "sqlite":
        yield make_settings(workspace, '[classifier]\nkind = "rules"\n')
        return
    with fresh_schema() as url:
        yield make_settings(workspace, f'database_url = "{url}"\n[classifier]\nkind = "rules"\n')


@pytest.fixture
def store(settings: Settings) -> Iterator[StateStore]:
    """The workspace's state store."""
    opened = StateStore.open(settings.state_url)
    yield opened
    opened.close()


@pytest.fixture
def helpdesk(settings: Settings) -> LocalHelpdesk:
    """The embedded helpdesk holding four tickets."""
    desk = LocalHelpdesk.from_settings(settings)
    desk.upsert(TICKETS)
    return desk


def run_worker(settings: Settings, store: StateStore, *, flows: tuple[str, ...] = ("triage",),
               on_line: Callable[[str], None] | None = None, started: Callable[[Worker], None] | None = None,
               **options: Any) -> tuple[WorkerTotals, list[str]]:
    """Run one worker (``once`` unless told otherwise); returns its totals and status lines."""
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        if on_line is not None:
            on_line(line)

    async def go() -> WorkerTotals:
        async with open_lanes(selected_teams(settings, None), flows, store) as lanes:
            worker = Worker(store, lanes, WorkerOptions(**{"once": True, "idle_seconds": 0.05, **options}),
                            report=report)
            if started is not None:
                started(worker)
            return await worker.run()

    return asyncio.run(go()), lines


def alerts(settings: Settings) -> Counter[str]:
    keys = [e["metadata"]["event_payload"]["idempotency_key"] for e in
            OutboxChat(settings.path(settings.local.outbox)).entries()]
    return Counter(keys)


def test_the_fetcher_enqueues_each_version_once_and_every_ticket_is_triaged_once(
        settings: Settings, store: StateStore, helpdesk: LocalHelpdesk) -> None:
    totals, lines = run_worker(settings, store)
    assert totals.fetched == 4 and totals.counts["done"] == 4
    assert lines[0].startswith("fetched 4 new items") and "triage 4 (4 handled)" in lines[1]
    assert len(alerts(settings)) == 4 and set(alerts(settings).values()) == {1}
    assert all(len(helpdesk.notes(t["id"])) == 1 for t in TICKETS)
    assert store.get_cursor("triage:default:local") is not None
    again, _ = run_worker(settings, store)  # nothing changed: nothing enqueued
    assert again.fetched == 0 and again.batches == 0
    helpdesk.upsert([{**TICKETS[0], "description": "Still locked out!"}])  # a new version of ticket 1
    changed, lines = run_worker(settings, store)
    assert changed.fetched == 1 and "triage 1 (1 handled)" in lines[1]  # new text: triaged again
    assert len(alerts(settings)) == 5 and len(helpdesk.notes("1")) == 2
    helpdesk.upsert([{**TICKETS[1], "status": "open"}])  # a change that leaves the text alone
    same, lines = run_worker(settings, store)
    assert same.fetched == 1 and "triage 1 (1 already handled)" in lines[1]
    assert len(alerts(settings)) == 5 and len(helpdesk.notes("2")) == 1
    assert Inbox(store.engine).depth() == {"waiting": 0, "dead": 0}


def test_a_ticket_another_worker_holds_is_given_back_and_triaged_when_it_is_free(
        settings: Settings, store: StateStore, helpdesk: LocalHelpdesk) -> None:
    store.claim("triage", "2", "another-worker", seconds=1.5)
    totals, lines = run_worker(settings, store)
    assert "1 held by another worker" in lines[1]
    assert totals.counts["busy"] >= 1 and totals.counts["done"] == 4 and totals.counts["failed"] == 0
    assert len(helpdesk.notes("2")) == 1 and len(alerts(settings)) == 4


def test_a_forgotten_ticket_is_enqueued_and_triaged_again(
        settings: Settings, store: StateStore, helpdesk: LocalHelpdesk) -> None:
    run_worker(settings, store)
    assert store.forget("3") == 1
    totals, _ = run_worker(settings, store)
    assert totals.fetched == 1 and totals.counts["done"] == 1
    assert store.requeued("triage") == [] and store.handled_among("triage", ["3"]) == {"3"}
    assert len(store.item_state("3")["decisions"]) == 2  # decided again, with a new note and alert
    assert len(helpdesk.notes("3")) == 2 and len(alerts(settings)) == 5


def test_only_the_holder_of_the_role_fetches_and_a_lapsed_role_is_taken_over(
        settings: Settings, store: StateStore, helpdesk: LocalHelpdesk) -> None:
    assert store.claim(*ROLE, "host:1:worker-abc", seconds=60)  # a long-running fetcher elsewhere
    idle, _ = run_worker(settings, store)
    assert idle.fetched == 0 and idle.batches == 0  # it does not wait for a fetcher that never ends
    assert store.claim(*ROLE, "host:1:worker-abc", seconds=-1)  # …which then dies
    took_over, _ = run_worker(settings, store)
    assert took_over.fetched == 4 and took_over.counts["done"] == 4
    assert store.holder(*ROLE) is None  # a `once` worker gives the role back


def test_a_webhook_entry_is_read_from_the_source_and_a_vanished_item_is_settled(
        settings: Settings, store: StateStore, helpdesk: LocalHelpdesk) -> None:
    store.claim(*ROLE, "host:1:worker-abc", seconds=60)  # no fetching in this test: only the two entries
    inbox = Inbox(store.engine)
    inbox.add("zendesk", "event-1", "triage", "3", {"anything": "the receiver kept"})
    inbox.add("zendesk", "event-2", "triage", "999")
    totals, lines = run_worker(settings, store)
    assert totals.counts["done"] == 2 and "1 handled" in lines[0] and "1 gone" in lines[0]
    assert len(helpdesk.notes("3")) == 1 and store.handled_among("triage", ["3", "1"]) == {"3"}


def test_an_entry_a_killed_worker_had_leased_is_taken_over_at_once(
        settings: Settings, store: StateStore, helpdesk: LocalHelpdesk) -> None:
    store.claim(*ROLE, "host:1:worker-abc", seconds=60)  # no fetching in this test: only the entry
    inbox = Inbox(store.engine)
    inbox.add("zendesk", "event-1", "triage", "3")
    killed = worker_id().split(":")
    killed[2] = "999999999"  # this machine, a pid that no longer runs
    assert inbox.lease(":".join(killed), seconds=300)  # had it lived, five more minutes
    totals, _ = run_worker(settings, store)
    assert totals.counts["done"] == 1 and len(helpdesk.notes("3")) == 1


class ListsAnUnreadableEntry:
    """The helpdesk, listing beside its tickets an entry it cannot read (a bad id from the vendor)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def list_changed(self, cursor: str | None, limit: int) -> Page[Any]:
        page = await self.inner.list_changed(cursor, limit)
        return Page(page.items, page.cursor, page.has_more, unreadable=[("abc", "its id is no ticket number")])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_listed_entry_the_source_cannot_read_is_reported_and_the_cursor_stays_before_it(
        settings: Settings, store: StateStore, helpdesk: LocalHelpdesk, caplog: pytest.LogCaptureFixture) -> None:
    def unreadable_source(worker: Worker) -> None:
        for lane in worker.fetcher.lanes:
            lane.services.helpdesk = ListsAnUnreadableEntry(lane.services.helpdesk)  # type: ignore[union-attr]

    totals, lines = run_worker(settings, store, started=unreadable_source)
    assert totals.counts["unreadable"] == 1 and totals.counts["done"] == 4  # the readable tickets go on
    assert any("could not read 1 listed item: triage abc: its id is no ticket number" in line for line in lines)
    assert "could not read listed item abc" in caplog.text
    assert store.get_cursor("triage:default:local") is None  # listed again by the next fetch
    assert all(len(helpdesk.notes(t["id"])) == 1 for t in TICKETS)
    again, _ = run_worker(settings, store)  # readable now: the cursor moves, nothing is done twice
    assert again.counts["unreadable"] == 0 and again.counts["done"] == 0
    assert store.get_cursor("triage:default:local") is not None and len(alerts(settings)) == 4


def test_a_first_stop_finishes_the_batch_and_gives_the_role_back(
        settings: Settings, store: StateStore, helpdesk: LocalHelpdesk) -> None:
    helpdesk.upsert([{"id": str(n), "subject": "Invoice", "description": "double charge"} for n in range(10, 40)])
    workers: list[Worker] = []

    def stop_after_first_batch(line: str) -> None:
        if line.startswith("batch 1:"):
            workers[0].stop()  # SIGTERM / Ctrl+C

    totals, _ = run_worker(settings, store, once=False, batch_size=10, on_line=stop_after_first_batch,
                           started=workers.append)
    assert totals.batches == 1 and totals.counts["done"] == 10
    assert store.holder(*ROLE) is None
    assert Inbox(store.engine).depth()["waiting"] == 24
    with store.engine.connect() as conn:
        assert conn.execute(select(inbox_table.c.id).where(inbox_table.c.claimed_by.is_not(None),
                                                           inbox_table.c.done_at.is_(None))).all() == []


def test_a_second_stop_gives_the_unfinished_batch_back_without_spending_an_attempt(
        settings: Settings, store: StateStore, helpdesk: LocalHelpdesk, monkeypatch: pytest.MonkeyPatch) -> None:
    workers: list[Worker] = []
    real_write_back = LocalHelpdesk.write_back

    async def stuck_write_back(self: LocalHelpdesk, updates: Any) -> Any:
        workers[0].stop()
        workers[0].stop()  # Ctrl+C twice while the write-back hangs
        await asyncio.sleep(30)
        return await real_write_back(self, updates)

    monkeypatch.setattr(LocalHelpdesk, "write_back", stuck_write_back)
    totals, lines = run_worker(settings, store, once=False, started=workers.append)
    assert totals.batches == 0 and lines[-1] == "stopped mid-batch: 4 entries given back"
    with store.engine.connect() as conn:
        rows = conn.execute(select(inbox_table.c.attempts, inbox_table.c.claimed_by)).all()
    assert rows == [(0, None)] * 4
    assert store.holder("triage", "1") is None and store.holder(*ROLE) is None
    monkeypatch.setattr(LocalHelpdesk, "write_back", real_write_back)
    totals, _ = run_worker(settings, store)  # the next worker finds the alerts in the outbox: none twice
    assert totals.counts["done"] == 4 and set(alerts(settings).values()) == {1} and len(alerts(settings)) == 4
    assert all(len(helpdesk.notes(t["id"])) == 1 for t in TICKETS)


def test_conversations_are_escalated_once_through_the_queue(settings: Settings, store: StateStore) -> None:
    now = datetime.now(UTC)

    def at(hours: float) -> str:
        return (now - timedelta(hours=hours)).isoformat()

    angry = {"id": "c1", "title": "Export", "state": "open", "created_at": at(30),
             "contact": {"name": "Ann", "email": "ann@bigco.example"},
             "company": {"name": "Bigco", "plan": "enterprise", "mrr": 9000},
             "parts": [{"author": "customer", "body": "The export is broken again.", "created_at": at(30)},
                       {"author": "customer", "body": "This is unacceptable, I want a refund or I'm cancelling.",
                        "created_at": at(1)}]}
    calm = {"id": "c2", "title": "Invites", "state": "open", "created_at": at(1),
            "contact": {"name": "Bo", "email": "bo@tiny.example"},
            "parts": [{"author": "customer", "body": "How do I cancel an invitation?", "created_at": at(1)}]}
    source = LocalConversations.from_settings(settings)
    source.upsert([normalise_conversation(r) for r in (angry, calm)])
    totals, lines = run_worker(settings, store, flows=("escalate",))
    assert totals.counts["done"] == 2 and "1 escalated" in lines[1]
    assert len(source.notes("c1")) == 1 and source.notes("c2") == []
    assert len(LocalTracker.from_settings(settings).list_issues()) == 1 and len(alerts(settings)) == 1
    assert store.due("escalate", now + timedelta(days=2)) == ["c2"]  # watched for the hours-open signal
    again, _ = run_worker(settings, store, flows=("escalate",))  # the note changed c1: skipped as escalated
    assert again.counts["failed"] == 0 and len(source.notes("c1")) == 1 and len(alerts(settings)) == 1
