"""Backlog benchmark: 2,000 tickets through Zendesk, Notion and Slack fakes that enforce the vendors' limits.

Run:  .venv/bin/python bench/bench_backlog.py [--tickets 2000] [--time-scale 20] [--delay 1.0]
                                              [--digest P3] [--digest-threshold 50] [--batch-size 1000] [--json]

Setup: the seeded stack of tests/fakes/stack.py (N generated tickets in Zendesk, the demo help
centre in a Notion database, the four routed Slack channels), served on loopback from a process of
its own. Each fake enforces its vendor's documented limits (tests/fakes/limits.py: Zendesk's
account, Update Ticket, per-ticket and export limits; Notion's three requests a second; Slack's post
a second per channel and its method tiers) and answers 429 with Retry-After when one is exceeded;
every answer takes 50–150 ms. Time is scaled: with ``--time-scale 20`` twenty vendor seconds pass
in one real second, for the fakes' limits, their latency and frontline's budgets alike (figures are
in vendor seconds). The scale also multiplies frontline's own CPU time: past ~20 on a 2-core
machine, the event loop's work between pages (classifying 1,000 tickets takes ~0.2 s) becomes many
vendor seconds and shows in the figures.

Timed, each on a fresh stack and state store:

1. ``frontline run triage`` as shipped (rules classifier, rate budgets shared through the state
   store, concurrency 8, pages of ``--batch-size``, update_many write-backs, digests of ``--digest``
   severities once a channel has ``--digest-threshold`` alerts waiting in a page);
2. a naive pipeline on the same adapters without budgets: one ticket at a time — fetch, classify,
   search, alert, write back with one PUT — and a fixed ``--delay`` between tickets.

Reported: the lower bound the limits put on the traffic each run sent (the least time the busiest
limit needs for what it admitted, see ``Limiter.bounds``), the measured time and their ratio (target:
at least 90% of the bound), 429s the fakes answered, effects lost and duplicated (private notes and
alerts counted per ticket in the fakes; a ticket listed in a digest counts as alerted), and the
speed-up over the naive pipeline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fakes: the loopback fakes are the benchmark's vendors

from tests.fakes.limits import Limiter, notion_limits, slack_limits, zendesk_limits  # noqa: E402
from tests.fakes.stack import Stack, build_stack, serve_stack  # noqa: E402

from frontline.config import Settings, load_settings  # noqa: E402
from frontline.engine.services import open_flow  # noqa: E402
from frontline.flows.triage import FLOW, TRIAGE_VERSION, run_triage  # noqa: E402
from frontline.model import WriteBack, effect_key  # noqa: E402
from frontline.runtime.budgets import BudgetBook, TimeSource  # noqa: E402
from frontline.store.budgets import BudgetTable  # noqa: E402
from frontline.store.state import StateStore  # noqa: E402

MARKER = re.compile(r"\[(fl-[0-9a-f]+)\]")


@dataclass
class Result:
    """One pipeline's figures (seconds are vendor seconds: real seconds × time scale)."""

    name: str
    tickets: int
    seconds: float = 0.0
    bound: float = 0.0
    bound_by: str = ""
    refused: int = 0
    refused_by: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    lost: int = 0
    duplicated: int = 0
    posts: int = 0
    digests: int = 0
    demand: dict[str, int] = field(default_factory=dict)
    bounds: list[tuple[str, int, float]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """The bound as a share of the measured time (1.0: as fast as the limits allow)."""
        return self.bound / self.seconds if self.seconds else 0.0


def limited_stack(tickets: int, scale: float, seed: int) -> Stack:
    """The seeded stack with every fake enforcing its limits and answering in 50–150 ms (scaled)."""
    stack = build_stack(tickets, seed=seed, zendesk_host=None)
    stack.zendesk.limiter = Limiter.scaled(zendesk_limits(), scale)
    stack.notion.limiter = Limiter.scaled(notion_limits(), scale)
    stack.slack.limiter = Limiter.scaled(slack_limits(), scale)
    draw = random.Random(seed)
    for fake in stack.fakes:
        fake.latency = lambda: draw.uniform(0.05, 0.15) / scale
    return stack


def settings_for(folder: Path, env: dict[str, str], args: argparse.Namespace, *, budgets: bool) -> Settings:
    """The real stack from the environment, rules classifier, digests as asked."""
    folder.mkdir(parents=True)
    severities = [s for s in args.digest.split(",") if s.strip()] if args.digest != "none" else []
    threshold = args.digest_threshold if severities else 0
    config = folder / "frontline.toml"
    config.write_text(
        f'[local]\nworkspace = "{folder.as_posix()}"\necho = false\n[classifier]\nkind = "rules"\n'
        f'[connectors]\nhelpdesk = "zendesk"\nkb = "notion"\nchat = "slack"\n'
        f"[runner]\nbudgets = {str(budgets).lower()}\nbatch_size = {args.batch_size}\n"
        f"digest_threshold = {threshold}\n"
        f"digest_severities = {json.dumps(severities or ['P3'])}\n"
        # The naive pipeline has no pacing but its fixed delay (the Slack chat's own pacer runs on real time).
        f"[slack]\nchannel_interval_seconds = {1.0 if budgets else 0.0}\n",
        encoding="utf-8")
    return load_settings(config, environ=env, dotenv=None)


def waiting(stack: Stack) -> list[int]:
    """The tickets triage must handle."""
    return [t for t, stored in stack.zendesk.tickets.items() if stored["status"] in ("new", "open")]


def tally(stack: Stack, result: Result, tickets: list[int]) -> None:
    """Effects per ticket in the fakes: private notes with a marker, alerts (own, or listed in a digest)."""
    keys = {effect_key(FLOW, str(t), "alert", TRIAGE_VERSION): str(t) for t in tickets}
    alerts: Counter[str] = Counter()
    for message in stack.slack.all_posted():
        key = ((message.get("metadata") or {}).get("event_payload") or {}).get("idempotency_key")
        if key in keys:
            alerts[keys[key]] += 1
            result.posts += 1
        else:
            result.digests += 1
            alerts.update(re.findall(r"#(\d+)", str(message.get("text") or "").split(":", 1)[-1]))
    for ticket in tickets:
        notes = [n for n in stack.zendesk.private_notes(ticket) if MARKER.search(n)]
        for count in (len(notes), alerts[str(ticket)]):
            result.lost += count == 0
            result.duplicated += max(0, count - 1)
    limiters = [f.limiter for f in stack.fakes if isinstance(f.limiter, Limiter)]
    result.refused = sum(limiter.refused for limiter in limiters)
    result.refused_by = {f.service: f.limiter.refused for f in stack.fakes if isinstance(f.limiter, Limiter)}
    result.bounds = sorted(((f"{f.service} {where}", admitted, seconds) for f in stack.fakes
                            if isinstance(f.limiter, Limiter) for where, admitted, seconds in f.limiter.bounds()),
                           key=lambda b: -b[2])
    result.bound, result.bound_by = max((limiter.lower_bound() for limiter in limiters), key=lambda b: b[0])
    zendesk, notion, slack = (f.limiter for f in stack.fakes)
    assert isinstance(zendesk, Limiter) and isinstance(notion, Limiter) and isinstance(slack, Limiter)
    result.demand = {"zendesk requests": zendesk.admitted("account"), "zendesk exports": zendesk.admitted("export"),
                     "zendesk single updates": zendesk.admitted("ticket-update"),
                     "zendesk update_many jobs": len(stack.zendesk.jobs),
                     "notion requests": notion.admitted("integration"), "slack posts": slack.admitted("post")}
    for (name, key), counted in sorted(slack.counts.items()):
        if name == "post":
            result.demand[f"slack posts #{key}"] = counted.admitted


async def concurrent(settings: Settings, scale: float) -> float:
    """frontline's triage as shipped, with its budgets on the scaled clock; returns vendor seconds."""
    store = StateStore.open(settings.state_url)
    try:
        book = BudgetBook(table=BudgetTable(store.engine), time=TimeSource.scaled(scale))
        async with open_flow("triage", settings, store=store, budgets=book) as services:
            started = time.perf_counter()
            summary = await run_triage(services)
            elapsed = (time.perf_counter() - started) * scale
        if summary.failures:
            print(f"  {len(summary.failures)} failures, e.g. {summary.failures[0]}", file=sys.stderr)
        return elapsed
    finally:
        store.close()


async def sequential(settings: Settings, scale: float, delay: float) -> float:
    """The naive pipeline: one ticket at a time through the same adapters, no budgets, a fixed delay."""
    async with open_flow("triage", settings) as services:
        helpdesk, kb, chat, renderer = services.helpdesk, services.kb, services.chat, services.renderer
        routing = settings.routing
        started = time.perf_counter()
        cursor: str | None = None
        done: set[str] = set()  # its own write-backs come back in the export stream: not twice
        while True:
            page = await helpdesk.list_changed(cursor, 100)
            for ticket in page.items:
                if ticket.id in done:
                    continue
                done.add(ticket.id)
                [triage] = await services.classifier.classify([ticket])
                review = "abstained" in triage.flags
                channel = routing.fallback if review else settings.channel_for(triage.category)
                articles = []
                if not review and triage.category in routing.kb_categories:
                    articles = await kb.search(triage.summary or ticket.subject, routing.kb_results)
                alert = effect_key(FLOW, ticket.id, "alert", TRIAGE_VERSION)
                await chat.post(channel, renderer.alert(ticket, triage, articles, review=review), alert)
                marker = effect_key(FLOW, ticket.id, "writeback", TRIAGE_VERSION)
                note = renderer.note(ticket, triage, articles, review=review, marker=marker)
                [result] = await helpdesk.write_back([WriteBack(
                    ticket.id, (f"auto_category:{triage.category}", "triaged_by_agent"),
                    None if review else settings.priority_for(triage.severity), note, marker)])
                if result.error is not None:
                    print(f"  write-back failed for {ticket.id}: {result.error}", file=sys.stderr)
                await asyncio.sleep(delay / scale)  # the naive way to stay under the limits
            cursor = page.cursor
            if not page.has_more or not page.items:
                break
        return (time.perf_counter() - started) * scale


class Retries(logging.Handler):
    """Counts stamina's scheduled retries instead of printing them."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        """One more retry."""
        self.count += 1


def vendors(conn: Connection, name: str, args: argparse.Namespace) -> None:
    """The vendors' process: the limited fakes on loopback until asked to count what they hold.

    Apart from frontline's process, so the fakes' work (on the loopback threads) and frontline's
    share two cores instead of one interpreter lock.
    """
    stack = limited_stack(args.tickets, args.time_scale, args.seed)
    tickets = waiting(stack)
    with serve_stack(stack) as env:
        conn.send(env)
        conn.recv()  # the pipeline is done
        result = Result(name, len(tickets))
        tally(stack, result, tickets)
    conn.send(result)


def run_one(name: str, args: argparse.Namespace, folder: Path) -> Result:
    """Start a fresh limited stack in its own process and run one pipeline against it."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=vendors, args=(theirs, name, args), daemon=True)
    process.start()
    env = ours.recv()
    retries = Retries()
    logger = logging.getLogger("stamina")
    logger.addHandler(retries)
    logger.propagate = False
    try:
        settings = settings_for(folder / name, env, args, budgets=name == "frontline")
        if name == "frontline":
            seconds = asyncio.run(concurrent(settings, args.time_scale))
        else:
            seconds = asyncio.run(sequential(settings, args.time_scale, args.delay))
    finally:
        logger.removeHandler(retries)
        ours.send("count")
    result: Result = ours.recv()
    process.join(timeout=30)
    result.seconds, result.retries = seconds, retries.count
    return result


def show(result: Result) -> None:
    """One pipeline's figures."""
    print(f"\n{result.name}: {result.tickets} tickets in {result.seconds:,.0f} s "
          f"({result.seconds / 60:,.1f} min vendor time)")
    print(f"  lower bound from the limits: {result.bound:,.0f} s, set by {result.bound_by}")
    for where, admitted, seconds in result.bounds[:6]:
        print(f"    {where}: {admitted:,} requests need ≥ {seconds:,.0f} s")
    print(f"  bound / measured: {result.ratio:.1%} (target ≥ 90%)")
    by = ", ".join(f"{service} {count}" for service, count in result.refused_by.items())
    print(f"  429s answered by the fakes: {result.refused} ({by}); retries: {result.retries}")
    print(f"  effects lost: {result.lost}, duplicated: {result.duplicated} "
          f"({result.posts} alerts, {result.digests} digests)")
    print("  demand: " + ", ".join(f"{k} {v:,}" for k, v in result.demand.items()))


def main() -> None:
    """Run both pipelines and compare."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--time-scale", type=float, default=20.0, help="vendor seconds per real second")
    parser.add_argument("--batch-size", type=int, default=1000, help="tickets per page ([runner] batch_size)")
    parser.add_argument("--delay", type=float, default=1.0, help="the naive pipeline's pause per ticket (s)")
    parser.add_argument("--digest", default="P3", help="severities digested on a backlog (comma list, or none)")
    parser.add_argument("--digest-threshold", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frontline-backlog-") as tmp:
        results = [run_one("frontline", args, Path(tmp))]
        show(results[0])
        if not args.skip_sequential:
            results.append(run_one("sequential", args, Path(tmp)))
            show(results[1])
            print(f"\nspeed-up over the sequential pipeline: {results[1].seconds / results[0].seconds:.1f}×")
    if args.json:
        print(json.dumps([{**asdict(r), "ratio": r.ratio} for r in results], indent=2))


if __name__ == "__main__":
    main()
