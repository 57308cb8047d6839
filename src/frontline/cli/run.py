"""`frontline run FLOW` (once, cron-friendly) and `frontline poll` (every few minutes)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from frontline.cli.common import (
    ConsoleOutput,
    FlowChoice,
    connector_options,
    console,
    overrides,
    safe,
    selected_teams,
    settings_from,
)
from frontline.cli.group import cli
from frontline.config import Settings
from frontline.engine.once import run_once
from frontline.errors import FrontlineError
from frontline.flows import registry

log = logging.getLogger("frontline")


def _unechoed(line: str) -> None:
    """The chat's own console echo, silenced: the reporter prints the one line per item (none with -q)."""


async def flow_once(flow: str, settings: Settings, *, dry_run: bool, limit: int | None, quiet: bool,
                    now: Callable[[], datetime] | None = None) -> Any:
    """One pass of ``flow`` with console reporting (``now``: the clock time-based signals are measured by)."""
    return await run_once(registry.flow(flow), settings, dry_run=dry_run, limit=limit, output=ConsoleOutput(),
                          quiet=quiet, echo=_unechoed, now=now)


def print_flow_summary(flow: str, summary: Any, *, title: str = "") -> None:
    """The flow's closing summary, titled with its name (and ``title``)."""
    unit = registry.flow(flow)
    unit.print_summary(summary, ConsoleOutput(), title=f"{unit.title}{title}")


def run_flow(flow: str, settings: Settings, *, title: str, dry_run: bool, limit: int | None, quiet: bool,
             report_idle: bool = True) -> bool:
    """Run one flow for one team and print its summary; True when an item failed."""
    unit = registry.flow(flow)
    summary = asyncio.run(flow_once(flow, settings, dry_run=dry_run, limit=limit, quiet=quiet))
    if report_idle or not unit.idle(summary):
        print_flow_summary(flow, summary, title=title)
    else:
        console.print(f"{unit.title}{safe(title)}: nothing new.")
    return unit.failed(summary)


@cli.command("run")
@click.argument("flow", type=FlowChoice(listing=True))
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
        title = "" if name == "default" else f" · team {name}"
        failed = run_flow(flow, settings, title=title, dry_run=dry_run, limit=limit, quiet=quiet) or failed
    if failed:
        ctx.exit(1)


@cli.command("poll")
@click.option("--interval", type=click.FloatRange(min=0.05), default=None,
              help="Minutes between cycles (default: runner.poll_interval_minutes).")
@click.option("--cycles", type=click.IntRange(min=1), default=None, help="Stop after this many cycles.")
@click.option("--quiet", "-q", is_flag=True, help="No per-ticket lines, only summaries.")
@click.option("--flow", "flows", type=FlowChoice(listing=True), multiple=True,
              help="Only this flow (repeatable; default: every flow that lists work: triage, escalate, sla).")
@connector_options
@click.pass_context
def poll_command(ctx: click.Context, /, interval: float | None, cycles: int | None, quiet: bool,
                 flows: tuple[str, ...], team: str | None, **connectors: str | None) -> None:
    """Run the flows every few minutes; a failing cycle is logged and the next one runs. Ctrl+C stops."""
    root = settings_from(ctx, overrides(**connectors))
    teams = selected_teams(root, team)
    minutes = interval if interval is not None else root.runner.poll_interval_minutes
    count = 0
    try:
        while cycles is None or count < cycles:
            count += 1
            started = time.monotonic()
            for name, settings in teams:
                for flow in flows or registry.names(listing=True, default=True):
                    what = registry.flow(flow).title
                    label = f" · cycle {count}" + ("" if name == "default" else f" · team {name}")
                    try:
                        run_flow(flow, settings, title=label, dry_run=False, limit=None, quiet=quiet,
                                 report_idle=False)
                    except FrontlineError as error:
                        console.print(f"[red]{what}{safe(label)} failed:[/] {safe(error)} The next "
                                      "cycle runs as planned.")
                    except Exception as error:  # keep polling through bugs; the log has the details
                        log.exception("poll cycle %s crashed", count)
                        console.print(f"[red]{what}{safe(label)} crashed:[/] {type(error).__name__}: "
                                      f"{safe(error)}")
            if cycles is not None and count >= cycles:
                break
            time.sleep(max(0.0, minutes * 60 - (time.monotonic() - started)))
    except KeyboardInterrupt:
        console.print("Stopped polling.")
