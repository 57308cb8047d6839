"""Several `frontline worker` processes on one state store: every ticket handled once, the work shared.

Real processes (``python -m frontline.cli worker``) on the embedded helpdesk and outbox, with the state
store on SQLite (one machine) and, when FRONTLINE_TEST_POSTGRES_URL is set, on PostgreSQL. Each run
is bounded: a worker still running at the deadline is killed and the test fails.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from frontline.config import Settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.tracker import LocalTracker
from frontline.demo.generator import generate_tickets
from frontline.engine.fetcher import ROLE
from frontline.store.schema import claims, decisions, effects, inbox
from frontline.store.state import StateStore
from tests.helpers import make_settings
from tests.postgres import fresh_schema, needs_postgres

TICKETS = 2000
WORKERS = 3
DEADLINE = 300.0  # seconds for all the workers together (about 10 s on SQLite, 20 s on PostgreSQL here)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def settings(request: pytest.FixtureRequest, workspace: Path) -> Iterator[Settings]:
    """Rules classifier on the embedded default, the state store on each backend."""
    # BM25 alone links the duplicates: the test is about sharing work, and three processes each loading
    # and running the sentence encoder on 2,000 tickets would take minutes on 2 cores.
    config = '[classifier]\nkind = "rules"\n[incidents]\nembeddings = "off"\n'
    if request.param == "sqlite":
        yield make_settings(workspace, config)
        return
    with fresh_schema() as url:
        yield make_settings(workspace, f'database_url = "{url}"\n{config}')


def seed(settings: Settings, count: int) -> list[str]:
    desk = LocalHelpdesk.from_settings(settings)
    records = generate_tickets(count, seed=11)
    desk.upsert(records)
    ids = [str(r["id"]) for r in records]
    assert len(set(ids)) == count
    return ids


def spawn(settings: Settings, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTLINE_")}
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen([sys.executable, "-m", "frontline.cli", "--config", settings.source, "worker",
                             "--flow", "triage", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)


def finish(processes: list[subprocess.Popen[str]], deadline: float) -> list[str]:
    """Each process's output once it exits; kills them all if the deadline passes first."""
    outputs = []
    try:
        for process in processes:
            out, _ = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            outputs.append(out)
    except subprocess.TimeoutExpired:
        for process in processes:
            process.kill()
        pytest.fail(f"the workers did not finish within {DEADLINE:.0f}s")
    return outputs


def notes_per_ticket(settings: Settings) -> Counter[str]:
    with sqlite3.connect(settings.path("helpdesk.db")) as db:
        return Counter({str(t): int(n) for t, n in db.execute("SELECT ticket_id, COUNT(*) FROM notes GROUP BY 1")})


def alerts_per_key(settings: Settings) -> Counter[str]:
    lines = settings.path(settings.local.outbox).read_text(encoding="utf-8").splitlines()
    return Counter(json.loads(line)["metadata"]["event_payload"]["idempotency_key"] for line in lines)


def totals(output: str) -> dict[str, int]:
    """Numbers from a worker's closing line: `stopped: 12 batches, 600 done, 0 failed, … 0 fetched`."""
    line = next(line for line in output.splitlines() if "· stopped: " in line)
    words = line.split("stopped: ", 1)[1].replace(",", "").split()
    return {"batches": int(words[0]), "done": int(words[2]), "failed": int(words[4]), "fetched": int(words[-2])}


@pytest.mark.slow
def test_three_workers_share_two_thousand_tickets_and_handle_each_once(settings: Settings) -> None:
    ids = seed(settings, TICKETS)
    started = time.monotonic()
    workers = [spawn(settings, "--once", "--batch-size", "50") for _ in range(WORKERS)]
    outputs = finish(workers, started + DEADLINE)
    elapsed = time.monotonic() - started
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, output

    notes = notes_per_ticket(settings)  # exactly one write-back per ticket…
    assert sorted(notes) == sorted(ids) and set(notes.values()) == {1}
    alerts = alerts_per_key(settings)  # …and exactly one alert
    assert len(alerts) == TICKETS and set(alerts.values()) == {1}

    store = StateStore.open(settings.state_url)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count(), func.count(decisions.c.item_id.distinct()))).one() == (TICKETS,
                                                                                                      TICKETS)
        assert conn.execute(select(func.count()).select_from(effects).where(effects.c.status != "done")).scalar() == 0
        done = dict(conn.execute(select(effects.c.kind, func.count()).group_by(effects.c.kind)).all())
        assert done.pop("alert") == TICKETS and done.pop("writeback") == TICKETS
        # The urgent tickets' issues (the escalation protocol): one each, in the tracker too.
        issues = LocalTracker.from_settings(settings).list_issues()
        assert done == ({"issue": len(issues)} if issues else {}) and len({i.marker for i in issues}) == len(issues)
        assert conn.execute(select(func.count()).select_from(inbox).where(inbox.c.done_at.is_(None))).scalar() == 0
        assert conn.execute(select(func.count()).select_from(claims)).scalar() == 0  # every claim given back
    store.close()

    numbers = [totals(out) for out in outputs]
    assert sum(n["fetched"] for n in numbers) == TICKETS  # one fetcher enqueued each ticket once
    assert sum(n["done"] for n in numbers) == TICKETS and sum(n["failed"] for n in numbers) == 0
    assert sum(1 for n in numbers if n["batches"]) >= 2, outputs  # the work was shared
    print(f"{WORKERS} workers, {TICKETS} tickets, {elapsed:.1f}s: " + ", ".join(
        f"{n['done']} done in {n['batches']} batches" for n in numbers))


def test_sigterm_finishes_the_current_batch_and_leaves_the_rest_queued(settings: Settings) -> None:
    ids = seed(settings, 300)
    worker = spawn(settings, "--batch-size", "10", "--interval", "3600")
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in worker.stdout or ()], daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    seen = []
    while not any("batch 1:" in line for line in seen):
        try:
            seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        except queue.Empty:
            worker.kill()
            pytest.fail(f"no first batch within 120s: {seen}")
    worker.send_signal(signal.SIGTERM)
    try:
        assert worker.wait(timeout=60) == 0
    except subprocess.TimeoutExpired:
        worker.kill()
        pytest.fail("the worker did not stop within 60s of SIGTERM")
    reader.join(10)
    while not lines.empty():
        seen.append(lines.get())
    done = totals("".join(seen))["done"]
    assert 10 <= done < 300

    store = StateStore.open(settings.state_url)
    assert len(store.handled_among("triage", ids)) == done
    with store.engine.connect() as conn:
        pending = conn.execute(select(inbox.c.claimed_by).where(inbox.c.done_at.is_(None))).all()
    assert len(pending) == 300 - done and {row[0] for row in pending} == {None}  # nothing left leased
    assert store.holder(*ROLE) is None  # the fetcher role is free for the next worker
    store.close()

    rest = spawn(settings, "--once")
    finish([rest], time.monotonic() + 120)
    assert rest.returncode == 0
    assert set(notes_per_ticket(settings).values()) == {1} and len(notes_per_ticket(settings)) == 300
