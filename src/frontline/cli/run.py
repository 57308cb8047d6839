"""`frontline run FLOW` (once, cron-friendly) and `frontline poll` (every few minutes)."""

from __future__ import annotations

import asyncio
import logging
import time

import click

from frontline.app import triage_services
from frontline.cli import cli
from frontline.cli.common import (
    ConsoleReporter,
    connector_options,
    console,
    overrides,
    print_summary,
    selected_teams,
    settings_from,
)
from frontline.config import Settings
from frontline.errors import FrontlineError
from frontline.flows.triage import RunSummary, run_triage

log = logging.getLogger("frontline")


async def triage_once(settings: Settings, *, dry_run: bool, limit: int | None, quiet: bool) -> RunSummary:
    """One triage pass with console reporting."""
    async with triage_services(settings) as services:
        return await run_triage(services, dry_run=dry_run, limit=limit, reporter=ConsoleReporter(quiet=quiet))


@cli.command("run")
@click.argument("flow", type=click.Choice(["triage"]))
@click.option("--dry-run", is_flag=True, help="Decide and report, write nothing (shadow mode).")
@click.option("--limit", type=click.IntRange(min=1), help="Handle at most this many items.")
@click.option("--quiet", "-q", is_flag=True, help="No per-ticket lines, only the summary.")
@connector_options
@click.pass_context
def run_command(ctx: click.Context, /, flow: str, dry_run: bool, limit: int | None, quiet: bool, team: str | None,
                **connectors: str | None) -> None:
    """Run a flow once over everything new (cron-friendly); exits 1 when an item failed."""
    failed = False
    for name, settings in selected_teams(settings_from(ctx, overrides(**connectors)), team):
        summary = asyncio.run(triage_once(settings, dry_run=dry_run, limit=limit, quiet=quiet))
        print_summary(summary, title="Triage" if name == "default" else f"Triage · team {name}")
        failed = failed or bool(summary.failures)
    if failed:
        ctx.exit(1)


@cli.command("poll")
@click.option("--interval", type=click.FloatRange(min=0.05), default=None,
              help="Minutes between cycles (default: runner.poll_interval_minutes).")
@click.option("--cycles", type=click.IntRange(min=1), default=None, help="Stop after this many cycles.")
@click.option("--quiet", "-q", is_flag=True, help="No per-ticket lines, only summaries.")
@connector_options
@click.pass_context
def poll_command(ctx: click.Context, /, interval: float | None, cycles: int | None, quiet: bool, team: str | None,
                 **connectors: str | None) -> None:
    """Run triage every few minutes; a failing cycle is logged and the next one runs. Ctrl+C stops."""
    root = settings_from(ctx, overrides(**connectors))
    teams = selected_teams(root, team)
    minutes = interval if interval is not None else root.runner.poll_interval_minutes
    count = 0
    try:
        while cycles is None or count < cycles:
            count += 1
            started = time.monotonic()
            for name, settings in teams:
                label = f"Cycle {count}" if name == "default" else f"Cycle {count} · team {name}"
                try:
                    summary = asyncio.run(triage_once(settings, dry_run=False, limit=None, quiet=quiet))
                    if summary.handled or summary.failures:
                        print_summary(summary, title=label)
                    else:
                        console.print(f"{label}: nothing new.")
                except FrontlineError as error:
                    console.print(f"[red]{label} failed:[/] {error} The next cycle runs as planned.")
                except Exception as error:  # keep polling through bugs; the log has the details
                    log.exception("poll cycle %s crashed", count)
                    console.print(f"[red]{label} crashed:[/] {type(error).__name__}: {error}")
            if cycles is not None and count >= cycles:
                break
            time.sleep(max(0.0, minutes * 60 - (time.monotonic() - started)))
    except KeyboardInterrupt:
        console.print("Stopped polling.")
