"""Claims, the watch list and the inbox: what lets webhooks, the poller and workers share the work.

Each test runs on SQLite and, when FRONTLINE_TEST_POSTGRES_URL is set, on PostgreSQL (``state_url``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from frontline.runtime import owners
from frontline.store.inbox import MAX_ATTEMPTS, Entry, Inbox, delivery_id
from frontline.store.state import StateStore


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    """A migrated, empty store on the backend under test."""
    opened = StateStore.open(state_url)
    yield opened
    opened.close()


@pytest.fixture
def inbox(store: StateStore) -> Inbox:
    """The inbox on that store."""
    return Inbox(store.engine)


def test_one_claim_at_a_time_and_an_expired_claim_is_taken_over(store: StateStore) -> None:
    assert store.claim("escalate", "c1", "webhook", seconds=60)
    assert not store.claim("escalate", "c1", "poller", seconds=60)
    assert store.claim("escalate", "c1", "webhook", seconds=60)  # the holder may renew
    assert store.claim("escalate", "c2", "poller", seconds=60)  # other items are free
    store.release("escalate", "c1", "webhook")
    assert store.claim("escalate", "c1", "poller", seconds=-1)  # already expired when taken
    assert store.claim("escalate", "c1", "webhook", seconds=60)  # …so the next one takes it over
    other = StateStore.open(store.engine.url.render_as_string(hide_password=False))
    assert not other.claim("escalate", "c1", "another-process", seconds=60)
    assert other.holder("escalate", "c1") == "webhook"
    other.close()


def test_watched_items_come_due_in_order_and_can_be_dropped(store: StateStore) -> None:
    now = datetime.now(UTC)
    store.watch("escalate", "late", now + timedelta(hours=2))
    store.watch("escalate", "soon", now - timedelta(minutes=1))
    store.watch("escalate", "sooner", now - timedelta(minutes=5))
    assert store.due("escalate", now) == ["sooner", "soon"]
    store.watch("escalate", "soon", now + timedelta(hours=1))  # moved later
    store.unwatch("escalate", ["sooner"])
    assert store.due("escalate", now) == []
    assert store.due("escalate", now + timedelta(hours=3)) == ["soon", "late"]


def test_a_redelivery_is_recorded_once_and_a_leased_entry_is_not_leased_twice(inbox: Inbox) -> None:
    assert inbox.add("intercom", "notif_1", "escalate", "c1")
    assert not inbox.add("intercom", "notif_1", "escalate", "c1")
    assert inbox.add("intercom", "notif_2", "escalate", "c2")
    first = inbox.lease("worker-a", limit=1)
    second = inbox.lease("worker-b", limit=5)
    assert [d.item_id for d in first] == ["c1"] and [d.item_id for d in second] == ["c2"]
    assert inbox.lease("worker-c") == []
    inbox.done(first[0].id)
    assert inbox.depth() == {"waiting": 1, "dead": 0}


def test_a_failed_entry_comes_back_later_and_gives_up_after_the_last_attempt(inbox: Inbox) -> None:
    inbox.add("intercom", "n", "escalate", "c1")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        [entry] = inbox.lease("w")
        assert entry.attempts == attempt
        inbox.failed(entry.id, "Intercom is down", retry_in=0 if attempt < MAX_ATTEMPTS else 3600)
        if attempt == 1:
            inbox.failed(entry.id, "Intercom is down", retry_in=3600)
            assert inbox.lease("w") == []  # not before its time
            inbox.failed(entry.id, "Intercom is down", retry_in=0)
    assert inbox.lease("w") == [] and inbox.depth() == {"waiting": 0, "dead": 1}


def test_a_lease_whose_worker_died_is_taken_again(inbox: Inbox) -> None:
    inbox.add("intercom", "n", "escalate", "c1")
    assert inbox.lease("dead-worker", seconds=-1)  # its lease is already over
    assert [d.item_id for d in inbox.lease("live-worker")] == ["c1"]


def test_a_lease_left_by_a_killed_process_of_this_machine_is_taken_over_at_once(inbox: Inbox) -> None:
    inbox.add("intercom", "n1", "escalate", "c1")
    inbox.add("intercom", "n2", "escalate", "c2")
    here = f"{os.uname().nodename}:{owners._namespace()}"
    assert inbox.lease(f"{here}:999999999:serve", limit=1)  # a pid that no longer runs: killed mid-work
    assert inbox.lease("another-host:4026531836:123:serve", limit=1)  # it may still be alive: its lease decides
    assert [d.item_id for d in inbox.lease(owners.this_process("serve"), dead=owners.gone)] == ["c1"]
    assert inbox.lease(owners.this_process("serve"), dead=owners.gone) == []


def test_claims_are_taken_in_batches_and_given_back(store: StateStore) -> None:
    assert store.claim_many("triage", ["1", "2", "2"], "worker-a") == {"1", "2"}
    assert store.claim_many("triage", ["2", "3"], "worker-b") == {"3"}
    assert store.holder("triage", "2") == "worker-a"
    store.release_many("triage", ["1", "2", "3"], "worker-a")  # only its own
    assert store.holder("triage", "3") == "worker-b" and store.holder("triage", "1") is None
    assert store.claim_many("triage", ["1", "2"], "worker-b") == {"1", "2"}


def test_a_batch_of_deliveries_is_recorded_once_each(inbox: Inbox) -> None:
    entries = [Entry("poll", delivery_id("triage", str(n), "v1"), "triage", str(n), {"n": n}) for n in range(300)]
    assert inbox.add_many(entries) == 300
    assert inbox.add_many([*entries[:10], Entry("poll", "triage:new:v1", "triage", "new")]) == 1
    assert inbox.add_many([entries[0], entries[0]]) == 0
    assert inbox.depth() == {"waiting": 301, "dead": 0}
    leased = inbox.lease("w", flows={"triage"}, limit=500)
    assert len(leased) == 301 and leased[0].payload == {"n": 0}


def test_a_long_delivery_id_is_hashed_to_fit() -> None:
    assert delivery_id("triage", "7", "v1") == "triage:7:v1"
    long = delivery_id("triage", "x" * 300, "v1")
    assert len(long) <= 200 and long == delivery_id("triage", "x" * 300, "v1") != delivery_id("triage", "y" * 300, "v1")


def test_leases_are_kept_released_and_settled_in_batches(inbox: Inbox) -> None:
    inbox.add_many([Entry("poll", f"d{n}", "triage", str(n)) for n in range(4)])
    inbox.add("intercom", "n1", "escalate", "c1")
    batch = inbox.lease("w1", flows=["triage"], limit=3, seconds=-1)  # already expired…
    assert [d.item_id for d in batch] == ["0", "1", "2"]
    assert inbox.extend("w1", [d.id for d in batch], seconds=60) == 3  # …but kept by its holder
    assert [d.item_id for d in inbox.lease("w2", flows=["triage"])] == ["3"]
    inbox.done_many([batch[0].id])
    inbox.release("w1", [d.id for d in batch[1:]])  # given back at shutdown: no attempt spent
    again = inbox.lease("w2", flow="triage")
    assert [(d.item_id, d.attempts) for d in again] == [("1", 1), ("2", 1)]
    assert inbox.depth(flows=["escalate"]) == {"waiting": 1, "dead": 0}
    assert inbox.extend("w1", [d.id for d in again], seconds=60) == 0  # w1 no longer holds them
