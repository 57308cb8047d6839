"""Rate budgets: buckets, matching, 429s that pause every sharer, shared buckets, and a flow kept inside limits.

Time is virtual (tests/runtime/virtual_time.py): waits take no real time and every coroutine, bucket
and fake limiter reads one clock.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from frontline.config import load_settings
from frontline.connectors.http import VendorAPI
from frontline.connectors.notion import NOTION
from frontline.connectors.notion.settings import NotionSettings
from frontline.connectors.slack import SLACK
from frontline.connectors.slack.limits import slack_request
from frontline.connectors.slack.settings import SlackSettings
from frontline.connectors.zendesk import ZENDESK
from frontline.connectors.zendesk.settings import ZendeskSettings
from frontline.engine.services import open_flow
from frontline.flows.triage import RunSummary, run_triage
from frontline.runtime.budgets import (
    BudgetBook,
    Limit,
    SharedBucket,
    TimeSource,
    TokenBucket,
)
from frontline.store.budgets import BudgetTable
from frontline.store.state import StateStore
from tests.fakes.base import FakeAPI, json_response
from tests.fakes.limits import Limiter, notion_limits, zendesk_limits
from tests.fakes.stack import Stack, build_stack
from tests.helpers import make_settings
from tests.runtime.virtual_time import now, run_virtual

POSTGRES_ENV = "FRONTLINE_TEST_POSTGRES_URL"


def virtual() -> TimeSource:
    """Budgets on the virtual loop's clock."""
    return TimeSource(clock=now, wall=now, sleep=asyncio.sleep)


def most_in_any_window(times: list[float], window: float) -> int:
    """The most timestamps in any half-open window [t, t + window)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, stamp in enumerate(ordered):
        while ordered[start] <= stamp - window:
            start += 1
        best = max(best, end - start + 1)
    return best


# -- one bucket ----------------------------------------------------------------------------------------
def test_a_bucket_sends_its_capacity_at_once_then_one_token_per_interval() -> None:
    async def go() -> list[float]:
        bucket = TokenBucket("t", rate=2.0, capacity=3.0, time=virtual())
        start, times = now(), []
        for _ in range(7):
            await bucket.take()
            times.append(now() - start)
        return times

    assert run_virtual(go()) == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5, 2.0]


def test_an_idle_bucket_refills_up_to_its_capacity_and_no_further() -> None:
    async def go() -> list[float]:
        bucket = TokenBucket("t", rate=2.0, capacity=3.0, time=virtual())
        for _ in range(3):
            await bucket.take()
        await asyncio.sleep(100)  # far longer than a refill: still only 3 tokens
        start, times = now(), []
        for _ in range(5):
            await bucket.take()
            times.append(now() - start)
        return times

    assert run_virtual(go()) == [0.0, 0.0, 0.0, 0.5, 1.0]


def test_concurrent_takers_queue_in_order_at_the_bucket_rate() -> None:
    async def go() -> list[float]:
        bucket = TokenBucket("t", rate=5.0, capacity=1.0, time=virtual())
        start, times = now(), []

        async def one() -> None:
            await bucket.take()
            times.append(now() - start)

        await asyncio.gather(*(one() for _ in range(50)))
        return times

    times = run_virtual(go())
    assert times == sorted(times) and times[0] == 0.0
    assert all(b - a == pytest.approx(0.2) for a, b in itertools.pairwise(times))


def test_a_window_limit_never_exceeds_its_amount_in_any_window_and_wastes_little() -> None:
    limit = Limit("account", 400, 60.0)

    async def go() -> list[float]:
        bucket = TokenBucket.of("z", limit, time=virtual())
        start, times = now(), []

        async def one() -> None:
            await bucket.take()
            times.append(now() - start)

        await asyncio.gather(*(one() for _ in range(2000)))
        return times

    times = run_virtual(go())
    # Inside the limit even if every answer arrived 0.6 s (1% of the window) after it was sent.
    assert most_in_any_window(times, 60.6) <= 400
    # At least 95% of the documented rate (the bucket forgoes the first window's burst of 400, which
    # a bucket could only allow by sending less in every later window).
    assert max(times) <= 2000 / 400 * 60.0 / 0.95


# -- matching ------------------------------------------------------------------------------------------
def names(book: BudgetBook, request: httpx.Request, vendor: str = "zendesk") -> list[str]:
    if vendor == "zendesk":
        budget = ZENDESK.budget(book, ZendeskSettings(subdomain="acme"))
    else:
        budget = SLACK.budget(book, SlackSettings())
    return [bucket.name.split(":", 2)[-1] for bucket, _ in budget.buckets_for(request)]


def test_requests_match_buckets_by_host_method_and_path() -> None:
    book = BudgetBook()
    root = "https://acme.zendesk.com/api/v2"
    assert names(book, httpx.Request("PUT", f"{root}/tickets/42")) == ["ticket-updates:42", "ticket-update",
                                                                       "account"]
    assert names(book, httpx.Request("GET", f"{root}/incremental/tickets/cursor")) == ["export", "account"]
    assert names(book, httpx.Request("GET", f"{root}/tickets/42")) == ["account"]
    assert names(book, httpx.Request("PUT", f"{root}/tickets/update_many")) == ["account"]
    assert names(book, httpx.Request("GET", "https://other.zendesk.com/api/v2/tickets/42")) == []
    assert names(book, slack_request("chat.postMessage", "#Billing"), "slack") == ["post:billing"]
    assert names(book, slack_request("conversations.history"), "slack") == ["conversations.history"]


def test_one_ticket_s_updates_are_limited_per_ticket_not_per_account() -> None:
    async def go() -> tuple[float, float]:
        budget = ZENDESK.budget(BudgetBook(time=virtual()), ZendeskSettings(subdomain="acme"))
        start = now()
        for _ in range(10):  # 30 per 10 minutes per ticket: a third of them may come at once
            await budget.acquire(httpx.Request("PUT", "https://acme.zendesk.com/api/v2/tickets/1"))
        await budget.acquire(httpx.Request("PUT", "https://acme.zendesk.com/api/v2/tickets/2"))
        other = now() - start
        await budget.acquire(httpx.Request("PUT", "https://acme.zendesk.com/api/v2/tickets/1"))
        return other, now() - start

    other_ticket, same_ticket = run_virtual(go())
    assert other_ticket < 10.0  # another ticket only waits for the account's Update Ticket pace
    assert same_ticket >= 30.0  # an 11th update of ticket 1 waits for that ticket's own budget


# -- 429s ----------------------------------------------------------------------------------------------
def test_a_429_pauses_every_coroutine_sharing_the_bucket_and_no_other_vendor() -> None:
    async def go() -> tuple[list[float], float]:
        book = BudgetBook(time=virtual())
        notion = NOTION.budget(book, NotionSettings())
        zendesk = ZENDESK.budget(book, ZendeskSettings(subdomain="acme"))
        request = httpx.Request("POST", "https://api.notion.com/v1/search")
        start = now()
        await notion.acquire(request)
        notion.penalise(10.0)  # this task's request met a 429 with Retry-After: 10
        times: list[float] = []

        async def sharer() -> None:
            await notion.acquire(request)
            times.append(now() - start)

        async def unrelated() -> float:
            await zendesk.acquire(httpx.Request("GET", "https://acme.zendesk.com/api/v2/tickets/1"))
            return now() - start

        _, elsewhere = await asyncio.gather(asyncio.gather(*(sharer() for _ in range(6))), unrelated())
        return times, elsewhere

    times, elsewhere = run_virtual(go())
    assert min(times) >= 10.0  # nobody sharing the bucket sent during the pause
    assert max(times) == pytest.approx(10.0 + 5 / 3)  # then at the bucket's pace, not all at once
    assert elsewhere == 0.0


class Echo(FakeAPI):
    """One route that answers 200."""

    def __init__(self) -> None:
        super().__init__()
        self.route("GET", r"/ping", lambda request, match: json_response(200, {"ok": True}))


def test_a_vendor_429_pauses_the_budget_for_exactly_retry_after() -> None:
    fake = Echo()
    fake.fail(429, headers={"Retry-After": "7"})

    async def go() -> float:
        book = BudgetBook(time=virtual())
        budget = NOTION.budget(book, NotionSettings(base_url="https://echo.example"))
        async with fake.client() as http:
            api = VendorAPI("Echo", http, "https://echo.example", budget=budget)
            start = now()
            await api.request("GET", "/ping")  # 429, then (stamina retries at once in tests) the budget waits
            return now() - start

    assert run_virtual(go()) == pytest.approx(7.0)
    assert len(fake.requests) == 2


class Graph(FakeAPI):
    """A GraphQL endpoint whose every operation costs 600 complexity points."""

    def __init__(self) -> None:
        super().__init__()
        self.route("POST", r"/graphql", lambda request, match: json_response(200, {"data": {"ok": True}},
                                                                              {"X-Complexity": "600"}))


def test_a_graphql_operation_s_complexity_is_charged_after_its_answer() -> None:
    from frontline.connectors.linear import LINEAR
    from frontline.connectors.linear.api import LinearAPI
    from frontline.connectors.linear.settings import LinearSettings

    fake = Graph()

    async def go() -> list[float]:
        budget = LINEAR.budget(BudgetBook(time=virtual()), LinearSettings(base_url="https://linear.example/graphql",
                                                                           complexity_per_hour=1000))

        async def auth(refresh: bool) -> dict[str, str]:
            return {"Authorization": "lin_api_test"}

        async with fake.client() as http:
            api = LinearAPI(http, "https://linear.example/graphql", auth=auth, budget=budget)
            start, times = now(), []
            for _ in range(3):
                await api.execute("query { ok }", what="test")
                times.append(now() - start)
            return times

    # 1,000 points an hour: 600 + 600 leave a debt of 200 points, paid off after 200 × 3.6 s.
    assert run_virtual(go()) == [0.0, 0.0, pytest.approx(720.0)]


def test_idle_per_ticket_buckets_are_forgotten_instead_of_piling_up() -> None:
    from frontline.runtime.budgets import MAX_BUCKETS

    book = BudgetBook()
    limit = Limit("ticket-updates", 30, 600.0, burst=10)
    for ticket in range(MAX_BUCKETS + 500):
        book.bucket(f"zendesk:acme:ticket-updates:{ticket}", limit, shared=False)
    assert len(book.buckets()) <= MAX_BUCKETS


# -- shared through the state store ----------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One state store's URL: a SQLite file, or a fresh schema on FRONTLINE_TEST_POSTGRES_URL's server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    import psycopg

    schema = f"fl_budgets_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in server else "?"
        yield f"{server}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_a_shared_bucket_never_exceeds_the_limit_across_two_stores_on_one_database(store_url: str) -> None:
    limit = Limit("account", 600, 60.0)
    seconds = 180.0
    stores = [StateStore.open(store_url), StateStore.open(store_url)]  # two worker processes' stores

    async def go() -> tuple[list[float], list[float], list[SharedBucket]]:
        buckets = []
        for store in stores:
            book = BudgetBook(table=BudgetTable(store.engine), time=virtual(), offload=False)
            bucket = book.bucket("zendesk:acme:account", limit)
            assert isinstance(bucket, SharedBucket)
            buckets.append(bucket)
        start = now()
        granted: list[list[float]] = [[], []]

        async def worker(which: int) -> None:
            while now() - start < seconds:
                await buckets[which].take()
                granted[which].append(now() - start)

        await asyncio.gather(*(worker(which) for which in (0, 1) for _ in range(5)))
        return granted[0], granted[1], buckets

    try:
        first, second, buckets = run_virtual(go())
    finally:
        for store in stores:
            store.close()
    everything = [t for t in first + second if t < seconds]
    assert most_in_any_window(everything, 60.0) <= limit.amount
    assert len(everything) >= 0.9 * limit.amount * seconds / limit.period  # and it lets through about as much
    assert min(len(first), len(second)) >= 0.2 * len(everything)  # both processes got their share
    # Tokens travel in batches: even two processes in lockstep make one round trip per two tokens.
    assert sum(b.round_trips for b in buckets) <= 0.6 * len(everything)


def test_one_process_takes_shared_tokens_a_batch_per_round_trip(tmp_path: Path) -> None:
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")

    async def go() -> tuple[int, SharedBucket]:
        book = BudgetBook(table=BudgetTable(store.engine), time=virtual(), offload=False)
        bucket = book.bucket("zendesk:acme:account", Limit("account", 600, 60.0))
        assert isinstance(bucket, SharedBucket) and bucket.batch > 1
        for _ in range(400):
            await bucket.take()
        return 400, bucket

    try:
        taken, bucket = run_virtual(go())
    finally:
        store.close()
    assert bucket.round_trips <= taken / bucket.batch + 5


def test_a_429_in_one_process_pauses_the_shared_bucket_in_the_other(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    stores = [StateStore.open(url), StateStore.open(url)]
    limit = Limit("integration", 3, 1.0, kind="bucket", burst=3)

    async def go() -> float:
        books = [BudgetBook(table=BudgetTable(s.engine), time=virtual(), offload=False) for s in stores]
        first, second = (book.bucket("notion:api:integration", limit) for book in books)
        start = now()
        await first.take()
        first.penalise(30.0)
        await second.take()
        return now() - start

    try:
        assert run_virtual(go()) >= 30.0
    finally:
        for store in stores:
            store.close()


# -- a flow kept inside a fake's limits --------------------------------------------------------------------
def limited_stack(tickets: int) -> Stack:
    """The seeded stack with Zendesk and Notion enforcing their documented limits on the virtual clock."""
    stack = build_stack(tickets)
    stack.zendesk.limiter = Limiter(zendesk_limits(), clock=now)
    stack.notion.limiter = Limiter(notion_limits(), clock=now)
    return stack


def triage_on(stack: Stack, workspace: Path, *, budgets: bool) -> tuple[RunSummary, float]:
    make_settings(workspace, '[classifier]\nkind = "rules"\n')
    settings = load_settings(workspace / "frontline.toml", environ=stack.environment(), dotenv=None,
                             overrides={("connectors", "helpdesk"): "zendesk", ("connectors", "kb"): "notion"})

    async def go() -> tuple[RunSummary, float]:
        book = BudgetBook(time=virtual()) if budgets else None
        async with (httpx.AsyncClient(transport=stack.transport()) as http,
                    open_flow("triage", settings, http=http, budgets=book) as services):
            start = now()
            summary = await run_triage(services)
            return summary, now() - start

    return run_virtual(go())


def test_without_budgets_the_fakes_refuse_requests(workspace: Path) -> None:
    stack = limited_stack(40)
    triage_on(stack, workspace, budgets=False)
    assert stack.notion.limiter is not None and stack.notion.limiter.refused > 0


def test_with_budgets_triage_meets_no_429_and_runs_close_to_the_limits(workspace: Path) -> None:
    stack = limited_stack(40)
    waiting = [t for t, stored in stack.zendesk.tickets.items() if stored["status"] in ("new", "open")]
    summary, elapsed = triage_on(stack, workspace, budgets=True)
    assert summary.handled == len(waiting) and not summary.failures and summary.problems == 0
    assert all(len(stack.zendesk.private_notes(t)) == 1 for t in waiting)
    limiters = [stack.zendesk.limiter, stack.notion.limiter]
    assert [limiter.refused for limiter in limiters if limiter is not None] == [0, 0]
    bound = max(limiter.lower_bound()[0] for limiter in limiters if limiter is not None)
    assert bound > 5.0  # the limits were the bottleneck (Notion's three a second)
    assert bound <= elapsed <= bound / 0.85
