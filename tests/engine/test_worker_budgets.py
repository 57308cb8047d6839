"""Three workers on rate-limited vendors share one budget through the state store: no 429, nothing twice.

The workers stand for three processes: each has its own store engine and its own budget book, so
all they share is the database (SQLite, or PostgreSQL when FRONTLINE_TEST_POSTGRES_URL is set).
The fake Zendesk and Notion enforce their vendors' documented limits and answer 429 past them;
time is virtual (tests/runtime/virtual_time.py), so the limits cost no real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from frontline.config import Settings, load_settings
from frontline.engine.fetcher import Lane
from frontline.engine.services import open_flow
from frontline.engine.worker import Worker, WorkerOptions, WorkerTotals
from frontline.flows import registry
from frontline.store.state import StateStore
from tests.fakes.stack import Stack, build_stack
from tests.helpers import make_settings
from tests.postgres import fresh_schema, needs_postgres

budgets = pytest.importorskip("frontline.runtime.budgets", reason="the rate budgets have not landed yet")
store_budgets = pytest.importorskip("frontline.store.budgets")
limits = pytest.importorskip("tests.fakes.limits")
virtual_time = pytest.importorskip("tests.runtime.virtual_time")

TICKETS = 120
WORKERS = 3


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The shared state store: a SQLite file, or a schema of its own on the PostgreSQL test server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    with fresh_schema() as url:
        yield url


def limited_stack() -> Stack:
    """Zendesk (tickets) and Notion (help centre) enforcing their documented limits on the virtual clock."""
    stack = build_stack(TICKETS)
    stack.zendesk.limiter = limits.Limiter(limits.zendesk_limits(), clock=virtual_time.now)
    stack.notion.limiter = limits.Limiter(limits.notion_limits(), clock=virtual_time.now)
    return stack


def stack_settings(stack: Stack, workspace: Path, database_url: str) -> Settings:
    make_settings(workspace, f'database_url = "{database_url}"\n[classifier]\nkind = "rules"\n')
    return load_settings(workspace / "frontline.toml", environ=stack.environment(), dotenv=None,
                         overrides={("connectors", "helpdesk"): "zendesk", ("connectors", "kb"): "notion"})


async def three_workers(stack: Stack, settings: Settings) -> list[WorkerTotals]:
    """Three workers, each with its own engine and budget book (as three processes would have), drained."""
    time = budgets.TimeSource(clock=virtual_time.now, wall=virtual_time.now, sleep=asyncio.sleep)
    async with contextlib.AsyncExitStack() as exits:
        workers = []
        for _ in range(WORKERS):
            store = StateStore.open(settings.state_url)
            exits.callback(store.close)
            book = budgets.BudgetBook(table=store_budgets.BudgetTable(store.engine), time=time, offload=False)
            http = await exits.enter_async_context(httpx.AsyncClient(transport=stack.transport()))
            services = await exits.enter_async_context(
                open_flow("triage", settings, http=http, store=store, budgets=book, echo=lambda line: None))
            workers.append(Worker(store, [Lane(services.flow, registry.flow("triage"), services)],
                                  WorkerOptions(once=True, batch_size=10, idle_seconds=0.5), report=lambda line: None))
        return list(await asyncio.gather(*(worker.run() for worker in workers)))


def test_three_workers_share_the_vendors_budget_and_meet_no_429(workspace: Path, database_url: str) -> None:
    stack = limited_stack()
    waiting = [t for t, stored in stack.zendesk.tickets.items() if stored["status"] in ("new", "open")]
    settings = stack_settings(stack, workspace, database_url)

    totals = virtual_time.run_virtual(three_workers(stack, settings))

    assert all(len(stack.zendesk.private_notes(t)) == 1 for t in waiting)  # one write-back each…
    outbox = settings.path(settings.local.outbox).read_text(encoding="utf-8").splitlines()
    keys = Counter(json.loads(line)["metadata"]["event_payload"]["idempotency_key"] for line in outbox)
    assert len(keys) == len(waiting) and set(keys.values()) == {1}  # …and one alert
    refused = {name: fake.limiter.refused for name, fake in (("zendesk", stack.zendesk), ("notion", stack.notion))
               if fake.limiter is not None}
    assert refused == {"zendesk": 0, "notion": 0}  # the shared budget held: no vendor said 429
    assert sum(t.counts["done"] for t in totals) >= len(waiting) and sum(t.counts["failed"] for t in totals) == 0
    assert sum(1 for t in totals if t.batches) >= 2  # the work was shared
    bound = max(fake.limiter.lower_bound()[0] for fake in (stack.zendesk, stack.notion) if fake.limiter is not None)
    assert bound > 5.0  # the vendors' limits, not the workers, set the pace (Notion's three searches a second)
