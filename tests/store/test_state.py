"""The state store: migrations, cursors, handled items, the effects ledger, forgetting.

``state_url`` (tests/store/conftest.py) runs each test on SQLite and, when a server is configured, PostgreSQL.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from frontline.model import Effect, EffectStatus
from frontline.store.state import Decision, StateStore


def open_store(tmp_path: Path) -> StateStore:
    return StateStore.open(f"sqlite:///{tmp_path / 'state' / 'frontline.db'}")


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    """A migrated, empty store on the backend under test."""
    opened = StateStore.open(state_url)
    yield opened
    opened.close()


def decision(item: str) -> Decision:
    return Decision("triage", item, "v1", "hash", "rules", 0.5, "bug", "P2", {"summary": "s"})


def test_migrations_create_the_tables_and_are_idempotent(state_url: str) -> None:
    store = StateStore.open(state_url)
    names = set(inspect(store.engine).get_table_names())
    assert {"cursors", "handled", "decisions", "effects", "requeued", "claims", "watch", "inbox",
            "alembic_version"} <= names
    store.close()
    StateStore.open(state_url).close()  # reopening applies nothing and does not fail


def test_processes_starting_together_on_an_empty_database_migrate_once(state_url: str) -> None:
    script = "import sys; from frontline.store.state import StateStore; StateStore.open(sys.argv[1]).close()"
    processes = [subprocess.Popen([sys.executable, "-c", script, state_url], stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], errors
    store = StateStore.open(state_url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    store.close()


def test_database_file_is_readable_by_owner_only(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    mode = stat.S_IMODE((tmp_path / "state" / "frontline.db").stat().st_mode)
    assert mode == 0o600


def test_cursor_round_trips_and_updates(store: StateStore) -> None:
    assert store.get_cursor("triage:default:local") is None
    store.set_cursor("triage:default:local", "10")
    store.set_cursor("triage:default:local", "25")
    assert store.get_cursor("triage:default:local") == "25"


def test_completed_items_are_handled_with_their_decision(store: StateStore) -> None:
    store.complete([decision("4"), decision("5")])
    assert store.handled_among("triage", ["4", "5", "6"]) == {"4", "5"}
    assert store.handled_among("escalate", ["4"]) == set()
    state = store.item_state("4")
    assert state["decisions"][0]["category"] == "bug"
    assert state["handled"][0]["decision_id"] == state["decisions"][0]["id"]


def test_ledger_moves_from_planned_to_done_with_reference(store: StateStore) -> None:
    effect = Effect("k1", "triage", "4", "alert", "#eng")
    store.plan([effect])
    store.plan([effect])  # planning again after a crash keeps one row and counts the attempt
    assert store.effects_by_key(["k1"])["k1"].status is EffectStatus.PLANNED
    store.finish([Effect("k1", "triage", "4", "alert", "#eng", EffectStatus.DONE, "ts-1")])
    done = store.effects_by_key(["k1"])["k1"]
    assert done.status is EffectStatus.DONE and done.remote_ref == "ts-1"
    assert store.item_state("4")["effects"][0]["attempts"] == 1


def test_forget_makes_the_item_unhandled_but_keeps_history(store: StateStore) -> None:
    store.complete([decision("4")])
    store.plan([Effect("k1", "triage", "4", "alert", "#eng")])
    assert store.forget("4") == 1
    assert store.handled_among("triage", ["4"]) == set()
    assert store.effects_by_key(["k1"]) == {}
    assert len(store.item_state("4")["decisions"]) == 1
    assert store.forget("4") == 0


def test_forget_queues_the_item_until_it_is_handled_again(store: StateStore) -> None:
    store.complete([decision("4"), decision("5")])
    store.forget("5")
    store.forget("4")
    assert store.requeued("triage") == ["5", "4"]
    store.dequeue("triage", ["5"])
    assert store.requeued("triage") == ["4"]


def test_completing_an_item_again_keeps_one_handled_row_with_the_newest_decision(store: StateStore) -> None:
    store.complete([decision("4")])
    store.complete([decision("4"), decision("4")])  # twice in one batch too
    state = store.item_state("4")
    assert len(state["handled"]) == 1 and len(state["decisions"]) == 3
    assert state["handled"][0]["decision_id"] == max(d["id"] for d in state["decisions"])


def test_decision_ids_follow_the_order_of_a_large_batch(store: StateStore) -> None:
    store.complete([decision(str(n)) for n in range(1200)])
    rows = [store.item_state(str(n)) for n in (0, 599, 1199)]
    ids = [r["handled"][0]["decision_id"] for r in rows]
    assert ids == sorted(ids) and all(r["decisions"][0]["id"] == r["handled"][0]["decision_id"] for r in rows)


def test_json_fields_round_trip(store: StateStore) -> None:
    fields = {"summary": "Zahlung fehlgeschlagen — 💳", "flags": ["a", "b"], "score": 0.25, "nested": {"n": None}}
    store.complete([Decision("triage", "9", "v1", "hash", "rules", 0.5, None, None, fields)])
    assert store.item_state("9")["decisions"][0]["fields"] == fields


def test_timestamps_come_back_as_aware_utc_whatever_offset_went_in(store: StateStore) -> None:
    paris = timezone(timedelta(hours=2))
    due = datetime(2030, 5, 1, 12, 0, tzinfo=paris)  # 10:00 UTC
    store.watch("escalate", "c1", due)
    assert store.due("escalate", datetime(2030, 5, 1, 9, 59, tzinfo=UTC)) == []
    [(item, when)] = store.due_at("escalate", datetime(2030, 5, 1, 10, 0, tzinfo=UTC))
    assert item == "c1" and when == due and when.tzinfo is not None and when.utcoffset() == timedelta(0)
    handled_at = store.item_state("c1")["handled"]
    assert handled_at == []
    store.complete([decision("5")])
    assert store.item_state("5")["handled"][0]["handled_at"].utcoffset() == timedelta(0)


def test_errors_with_nul_characters_are_stored(store: StateStore) -> None:
    store.plan([Effect("k1", "triage", "4", "alert", "#eng")])
    store.finish([Effect("k1", "triage", "4", "alert", "#eng", EffectStatus.FAILED, error="bad\x00byte")])
    assert store.effects_by_key(["k1"])["k1"].error == "badbyte"
