"""PostgreSQL specifics: the migrations, row locks that workers skip, races settled by the database.

The store's ordinary behaviour is checked on both backends by the other store tests; these cover
what only a real server shows. They are skipped unless FRONTLINE_TEST_POSTGRES_URL is set, except
the missing-driver test, which needs no server.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from click.testing import CliRunner
from sqlalchemy import inspect, text

from frontline.cli import cli
from frontline.cli import state as state_command  # noqa: F401  (registers `frontline state`)
from frontline.errors import ExtraMissingError
from frontline.store.engine import MIGRATIONS, driver_url
from frontline.store.inbox import Entry, Inbox
from frontline.store.state import Decision, StateStore
from tests.postgres import fresh_schema, needs_postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL on an empty schema of the test server."""
    with fresh_schema() as url:
        yield url


def test_a_missing_driver_asks_for_the_postgres_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(ExtraMissingError, match=r"pip install 'frontline\[postgres\]'"):
        StateStore.open("postgresql://frontline@127.0.0.1:1/frontline")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", "postgres://frontline@127.0.0.1:1/frontline")
    result = CliRunner().invoke(cli, ["state", "show", "4"])
    assert result.exit_code == 2, result.output
    assert "frontline[postgres]" in result.output and "Traceback" not in result.output


def test_postgresql_urls_use_psycopg_3() -> None:
    assert driver_url("postgresql://u:p@db/x") == "postgresql+psycopg://u:p@db/x"
    assert driver_url("postgres://u@db/x") == "postgresql+psycopg://u@db/x"
    assert driver_url("postgresql+psycopg2://u@db/x") == "postgresql+psycopg2://u@db/x"
    assert driver_url("sqlite:///x.db") == "sqlite:///x.db"


@needs_postgres
def test_migrations_build_native_types_and_go_down_and_up_again(pg_url: str) -> None:
    store = StateStore.open(pg_url)
    columns = {c["name"]: c["type"] for c in inspect(store.engine).get_columns("inbox")}
    assert type(columns["received_at"]).__name__ == "TIMESTAMP" and columns["received_at"].timezone
    assert type(columns["payload"]).__name__ == "JSON"
    decisions = {c["name"]: c for c in inspect(store.engine).get_columns("decisions")}
    assert decisions["id"]["autoincrement"] and "nextval" in str(decisions["id"]["default"])
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    store.close()
    StateStore.open(pg_url).close()  # and up again from nothing


@needs_postgres
def test_a_lease_skips_rows_another_worker_has_locked_instead_of_waiting(pg_url: str) -> None:
    store = StateStore.open(pg_url)
    inbox = Inbox(store.engine)
    inbox.add_many([Entry("poll", f"d{n}", "triage", str(n)) for n in range(4)])
    with store.engine.connect() as other, other.begin():  # another worker, mid-lease, holds two rows
        other.execute(text("SELECT id FROM inbox ORDER BY id LIMIT 2 FOR UPDATE"))
        started = time.monotonic()
        leased = inbox.lease("w2", limit=10)
        assert time.monotonic() - started < 5
        assert [d.item_id for d in leased] == ["2", "3"]
    assert [d.item_id for d in inbox.lease("w3", limit=10)] == ["0", "1"]
    store.close()


@needs_postgres
def test_workers_racing_for_the_same_items_claim_each_once(pg_url: str) -> None:
    store = StateStore.open(pg_url)
    items = [str(n) for n in range(60)]
    won: dict[str, set[str]] = {}
    barrier = threading.Barrier(6)

    def race(owner: str) -> None:
        barrier.wait()
        won[owner] = store.claim_many("triage", items, owner, seconds=60)

    threads = [threading.Thread(target=race, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    counts = Counter(item for taken in won.values() for item in taken)
    assert sorted(counts) == sorted(items) and set(counts.values()) == {1}
    store.close()


@needs_postgres
def test_racing_writers_of_one_item_and_one_delivery_do_not_fail(pg_url: str) -> None:
    store = StateStore.open(pg_url)
    inbox = Inbox(store.engine)
    barrier = threading.Barrier(4)
    added: list[int] = []
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            store.complete([Decision("triage", "7", f"v{n}", "h", "rules", 0.5, "bug", "P2", {})])
            store.set_cursor("triage:default:local", str(n))
            store.watch("escalate", "c1", datetime.now(UTC) + timedelta(hours=n))
            added.append(inbox.add_many([Entry("poll", "triage:7:v1", "triage", "7")]))
        except BaseException as error:  # collected: a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(added) == [0, 0, 0, 1]
    state = store.item_state("7")
    assert len(state["handled"]) == 1 and len(state["decisions"]) == 4
    store.close()


@needs_postgres
def test_times_are_utc_whatever_the_session_time_zone() -> None:
    with fresh_schema(options="-ctimezone=Asia/Tokyo") as url:
        store = StateStore.open(url)
        now = datetime.now(UTC)
        store.watch("escalate", "c1", now - timedelta(minutes=1))
        store.watch("escalate", "c2", now + timedelta(minutes=1))
        [(item, due)] = store.due_at("escalate", now)
        assert item == "c1" and due.utcoffset() == timedelta(0) and abs(due - (now - timedelta(minutes=1))) < timedelta(
            milliseconds=1)
        assert store.claim("escalate", "c1", "a", seconds=-1) and store.claim("escalate", "c1", "b", seconds=60)
        store.close()
