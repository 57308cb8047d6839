"""The requeue every flow's pass shares (engine/requeue.py): `state forget`'s items read again and handed over."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from frontline.engine.requeue import take_requeued
from frontline.errors import ConnectorError, NotFoundError
from frontline.store.state import Decision, StateStore
from tests.helpers import run


@dataclass
class Item:
    id: str


def queued(store: StateStore, *ids: str) -> None:
    store.complete([Decision("demo", i, "1", "h", "demo", 1.0, None, None, {}) for i in ids])
    for item_id in ids:
        store.forget(item_id)


async def get(item_id: str) -> Item:
    if item_id == "gone":
        raise NotFoundError("demo", f"no item {item_id}", status=404)
    if item_id == "down":
        raise ConnectorError("demo", "service unavailable", status=503)
    return Item(item_id)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")


def test_handed_over_items_leave_the_queue_once_handled_gone_ones_at_once_unreadable_ones_stay(
        store: StateStore) -> None:
    queued(store, "1", "gone", "down", "2")
    handed: list[list[str]] = []
    forgotten: list[list[str]] = []

    async def handle(items: list[Item]) -> None:
        handed.append([i.id for i in items])
        store.complete([Decision("demo", "1", "2", "h", "demo", 1.0, None, None, {})])  # "2" is not finished

    failures: list[tuple[str, str]] = []
    used = run(take_requeued(store, "demo", get, handle, dry_run=False, limit=None, failures=failures,
                             gone=forgotten.append))
    assert used == 2 and handed == [["1", "2"]] and forgotten == [["gone"]]
    assert failures == [("down", "could not read it again: demo: service unavailable (503)")]
    assert store.requeued("demo") == ["down", "2"]


def test_a_dry_run_hands_them_over_and_leaves_the_queue_as_it_was(store: StateStore) -> None:
    queued(store, "1", "gone")
    handed: list[str] = []

    async def handle(items: list[Item]) -> None:
        handed.extend(i.id for i in items)
        store.complete([Decision("demo", i.id, "2", "h", "demo", 1.0, None, None, {}) for i in items])

    assert run(take_requeued(store, "demo", get, handle, dry_run=True, limit=None, failures=[])) == 1
    assert handed == ["1"] and store.requeued("demo") == ["1", "gone"]


def test_the_limit_takes_the_oldest_requests_first(store: StateStore) -> None:
    queued(store, "3", "1", "2")
    handed: list[str] = []

    async def handle(items: list[Item]) -> None:
        handed.extend(i.id for i in items)

    assert run(take_requeued(store, "demo", get, handle, dry_run=False, limit=2, failures=[])) == 2
    assert handed == ["3", "1"]
    assert run(take_requeued(store, "demo", get, handle, dry_run=False, limit=0, failures=[])) == 0
