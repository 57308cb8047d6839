"""Claims, the watch list and the inbox: what lets webhooks, the poller and workers share the work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from frontline.store.inbox import MAX_ATTEMPTS, Inbox
from frontline.store.state import StateStore


def store_at(tmp_path: Path) -> StateStore:
    return StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")


def test_one_claim_at_a_time_and_an_expired_claim_is_taken_over(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    assert store.claim("escalate", "c1", "webhook", seconds=60)
    assert not store.claim("escalate", "c1", "poller", seconds=60)
    assert store.claim("escalate", "c1", "webhook", seconds=60)  # the holder may renew
    assert store.claim("escalate", "c2", "poller", seconds=60)  # other items are free
    store.release("escalate", "c1", "webhook")
    assert store.claim("escalate", "c1", "poller", seconds=-1)  # already expired when taken
    assert store.claim("escalate", "c1", "webhook", seconds=60)  # …so the next one takes it over
    other = StateStore.open(store.engine.url.render_as_string(hide_password=False))
    assert not other.claim("escalate", "c1", "another-process", seconds=60)


def test_watched_items_come_due_in_order_and_can_be_dropped(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    now = datetime.now(UTC)
    store.watch("escalate", "late", now + timedelta(hours=2))
    store.watch("escalate", "soon", now - timedelta(minutes=1))
    store.watch("escalate", "sooner", now - timedelta(minutes=5))
    assert store.due("escalate", now) == ["sooner", "soon"]
    store.watch("escalate", "soon", now + timedelta(hours=1))  # moved later
    store.unwatch("escalate", ["sooner"])
    assert store.due("escalate", now) == []
    assert store.due("escalate", now + timedelta(hours=3)) == ["soon", "late"]


def test_a_redelivery_is_recorded_once_and_a_leased_entry_is_not_leased_twice(tmp_path: Path) -> None:
    inbox = Inbox(store_at(tmp_path).engine)
    assert inbox.add("intercom", "notif_1", "escalate", "c1")
    assert not inbox.add("intercom", "notif_1", "escalate", "c1")
    assert inbox.add("intercom", "notif_2", "escalate", "c2")
    first = inbox.lease("worker-a", limit=1)
    second = inbox.lease("worker-b", limit=5)
    assert [d.item_id for d in first] == ["c1"] and [d.item_id for d in second] == ["c2"]
    assert inbox.lease("worker-c") == []
    inbox.done(first[0].id)
    assert inbox.depth() == {"waiting": 1, "dead": 0}


def test_a_failed_entry_comes_back_later_and_gives_up_after_the_last_attempt(tmp_path: Path) -> None:
    inbox = Inbox(store_at(tmp_path).engine)
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


def test_a_lease_whose_worker_died_is_taken_again(tmp_path: Path) -> None:
    inbox = Inbox(store_at(tmp_path).engine)
    inbox.add("intercom", "n", "escalate", "c1")
    assert inbox.lease("dead-worker", seconds=-1)  # its lease is already over
    assert [d.item_id for d in inbox.lease("live-worker")] == ["c1"]
