"""The state store: migrations, cursors, handled items, the effects ledger, forgetting."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import inspect

from frontline.model import Effect, EffectStatus
from frontline.store.state import Decision, StateStore


def open_store(tmp_path: Path) -> StateStore:
    return StateStore.open(f"sqlite:///{tmp_path / 'state' / 'frontline.db'}")


def decision(item: str) -> Decision:
    return Decision("triage", item, "v1", "hash", "rules", 0.5, "bug", "P2", {"summary": "s"})


def test_migrations_create_the_tables_and_are_idempotent(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    names = set(inspect(store.engine).get_table_names())
    assert {"cursors", "handled", "decisions", "effects", "alembic_version"} <= names
    store.close()
    open_store(tmp_path).close()  # reopening applies nothing and does not fail


def test_database_file_is_readable_by_owner_only(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    mode = stat.S_IMODE((tmp_path / "state" / "frontline.db").stat().st_mode)
    assert mode == 0o600


def test_cursor_round_trips_and_updates(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    assert store.get_cursor("triage:default:local") is None
    store.set_cursor("triage:default:local", "10")
    store.set_cursor("triage:default:local", "25")
    assert store.get_cursor("triage:default:local") == "25"


def test_completed_items_are_handled_with_their_decision(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.complete([decision("4"), decision("5")])
    assert store.handled_among("triage", ["4", "5", "6"]) == {"4", "5"}
    assert store.handled_among("escalate", ["4"]) == set()
    state = store.item_state("4")
    assert state["decisions"][0]["category"] == "bug"
    assert state["handled"][0]["decision_id"] == state["decisions"][0]["id"]


def test_ledger_moves_from_planned_to_done_with_reference(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    effect = Effect("k1", "triage", "4", "alert", "#eng")
    store.plan([effect])
    store.plan([effect])  # planning again after a crash keeps one row and counts the attempt
    assert store.effects_by_key(["k1"])["k1"].status is EffectStatus.PLANNED
    store.finish([Effect("k1", "triage", "4", "alert", "#eng", EffectStatus.DONE, "ts-1")])
    done = store.effects_by_key(["k1"])["k1"]
    assert done.status is EffectStatus.DONE and done.remote_ref == "ts-1"
    assert store.item_state("4")["effects"][0]["attempts"] == 1


def test_forget_makes_the_item_unhandled_but_keeps_history(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.complete([decision("4")])
    store.plan([Effect("k1", "triage", "4", "alert", "#eng")])
    assert store.forget("4") == 1
    assert store.handled_among("triage", ["4"]) == set()
    assert store.effects_by_key(["k1"]) == {}
    assert len(store.item_state("4")["decisions"]) == 1
    assert store.forget("4") == 0


def test_forget_queues_the_item_until_it_is_handled_again(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.complete([decision("4"), decision("5")])
    store.forget("5")
    store.forget("4")
    assert store.requeued("triage") == ["5", "4"]
    store.dequeue("triage", ["5"])
    assert store.requeued("triage") == ["4"]
