"""`frontline worker`: one of several processes sharing the flows' work through the state store."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable

import click

from frontline.cli.common import FlowChoice, connector_options, console, overrides, safe, selected_teams, settings_from
from frontline.cli.group import cli
from frontline.config import Settings
from frontline.engine.fetcher import Lane
from frontline.engine.services import open_flow
from frontline.engine.worker import Worker, WorkerOptions, WorkerTotals
from frontline.flows import registry
from frontline.store.state import StateStore


@contextlib.asynccontextmanager
async def open_lanes(teams: list[tuple[str, Settings]], flows: tuple[str, ...], store: StateStore
                     ) -> AsyncIterator[list[Lane]]:
    """Each team's flows opened on the shared store (one lane per team and flow), closed afterwards."""
    async with contextlib.AsyncExitStack() as stack:
        lanes: list[Lane] = []
        for _, settings in teams:
            for name in flows:
                unit = registry.flow(name)
                services = await stack.enter_async_context(open_flow(unit, settings, echo=lambda line: None,
                                                                     store=store))
                lanes.append(Lane(services.flow, unit, services))
        yield lanes


async def work(teams: list[tuple[str, Settings]], flows: tuple[str, ...], options: WorkerOptions, store: StateStore,
               report: Callable[[str], None]) -> WorkerTotals:
    """Work until stopped (or drained, with ``once``)."""
    async with open_lanes(teams, flows, store) as lanes:
        return await Worker(store, lanes, options, report=report).run()


@cli.command("worker")
@click.option("--once", is_flag=True,
              help="Fetch (unless another worker is fetching), process until the queue is empty, then exit.")
@click.option("--flow", "flows", type=FlowChoice(), multiple=True,
              help="Only this flow (repeatable; default: every flow that lists work: triage, escalate, sla).")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=50, show_default=True,
              help="Queue entries leased and processed together.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=None,
              help="Vendor calls in flight per batch (default: runner.concurrency).")
@click.option("--interval", type=click.FloatRange(min=1), default=None,
              help="Seconds between fetches while this worker is the fetcher (default: runner.poll_interval_minutes).")
@click.option("--lease", "lease_seconds", type=click.FloatRange(min=5), default=300.0, show_default=True,
              help="Seconds a batch stays this worker's without a heartbeat (a dead worker's batch returns after it).")
@connector_options
@click.pass_context
def worker_command(ctx: click.Context, /, once: bool, flows: tuple[str, ...], batch_size: int, concurrency: int | None,
                   interval: float | None, lease_seconds: float, team: str | None, **connectors: str | None) -> None:
    """Share the flows' work with other workers on one state store; SIGTERM or Ctrl+C finishes the batch and stops.

    One worker at a time fetches what changed into the store's queue; every worker takes batches
    from it. Run several on one PostgreSQL (FRONTLINE_DATABASE_URL=postgresql://…, the `postgres`
    extra) to scale past one machine; on the default SQLite store they share one machine.
    """
    wanted = overrides(**connectors)
    wanted[("runner", "concurrency")] = concurrency
    root = settings_from(ctx, wanted)
    teams = selected_teams(root, team)
    options = WorkerOptions(batch_size=batch_size, once=once, lease_seconds=lease_seconds,
                            fetch_every=interval if interval is not None else root.runner.poll_interval_minutes * 60)
    store = StateStore.open(root.state_url)
    backend = "PostgreSQL" if store.engine.dialect.name == "postgresql" else "SQLite (workers of this machine only)"
    pid = os.getpid()

    def report(line: str) -> None:
        console.print(f"worker {pid} · {safe(line)}")

    flows = flows or tuple(registry.names(listing=True, default=True))
    report(f"{', '.join(flows)} on {backend}" + (", until the queue is empty" if once else ""))
    try:
        totals = asyncio.run(work(teams, flows, options, store, report))
    finally:
        store.close()
    counts = totals.counts
    batches = f"{totals.batches} batch{'es' * (totals.batches != 1)}"
    unread = f", {counts['unreadable']} listed but unreadable" if counts["unreadable"] else ""
    report(f"stopped: {batches}, {counts['done']} done, {counts['failed']} failed{unread}, "
           f"{counts['busy']} left to other workers, {totals.fetched} fetched")
    if once and (counts["failed"] or counts["unreadable"]):
        ctx.exit(1)
