"""`frontline run FLOW` (once, cron-friendly) and `frontline poll` (every few minutes)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime

import click

from frontline.app import escalate_services, triage_services
from frontline.cli.common import (
    ConsoleReporter,
    connector_options,
    console,
    overrides,
    print_summary,
    safe,
    selected_teams,
    settings_from,
)
from frontline.cli.escalation import EscalationReporter, print_escalation_summary
from frontline.cli.group import cli
from frontline.config import Settings
from frontline.errors import FrontlineError
from frontline.flows.escalate import EscalationSummary, run_escalate
from frontline.flows.triage import RunSummary, run_triage

FLOWS = ("triage", "escalate")

log = logging.getLogger("frontline")


def _unechoed(line: str) -> None:
    """The chat's own console echo, silenced: the reporter prints the one line per item (none with -q)."""


async def triage_once(settings: Settings, *, dry_run: bool, limit: int | None, quiet: bool) -> RunSummary:
    """One triage pass with console reporting."""
    async with triage_services(settings, echo=_unechoed) as services:
        return await run_triage(services, dry_run=dry_run, limit=limit, reporter=ConsoleReporter(quiet=quiet))


async def escalate_once(settings: Settings, *, dry_run: bool, limit: int | None, quiet: bool,
                        now: Callable[[], datetime] | None = None) -> EscalationSummary:
    """One escalate pass with console reporting (``now``: the clock hours open are measured by)."""
    async with escalate_services(settings, echo=_unechoed) as services:
        return await run_escalate(services, dry_run=dry_run, limit=limit, report=EscalationReporter(quiet=quiet),
                                  now=now)


def run_flow(flow: str, settings: Settings, *, title: str, dry_run: bool, limit: int | None, quiet: bool,
             report_idle: bool = True) -> bool:
    """Run one flow for one team and print its summary; True when an item failed."""
    if flow == "escalate":
        escalated = asyncio.run(escalate_once(settings, dry_run=dry_run, limit=limit, quiet=quiet))
        if report_idle or escalated.scored or escalated.failures:
            print_escalation_summary(escalated, title=f"Escalate{title}")
        else:
            console.print(f"Escalate{safe(title)}: nothing new.")
        return bool(escalated.failures)
    triaged = asyncio.run(triage_once(settings, dry_run=dry_run, limit=limit, quiet=quiet))
    if report_idle or triaged.handled or triaged.failures:
        print_summary(triaged, title=f"Triage{title}")
    else:
        console.print(f"Triage{safe(title)}: nothing new.")
    return bool(triaged.failures)


@cli.command("run")
@click.argument("flow", type=click.Choice(FLOWS))
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
@click.option("--flow", "flows", type=click.Choice(FLOWS), multiple=True,
              help="Only this flow (repeatable; default: triage and escalate).")
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
                for flow in flows or FLOWS:
                    label = f" · cycle {count}" + ("" if name == "default" else f" · team {name}")
                    try:
                        run_flow(flow, settings, title=label, dry_run=False, limit=None, quiet=quiet,
                                 report_idle=False)
                    except FrontlineError as error:
                        console.print(f"[red]{flow.capitalize()}{safe(label)} failed:[/] {safe(error)} The next "
                                      "cycle runs as planned.")
                    except Exception as error:  # keep polling through bugs; the log has the details
                        log.exception("poll cycle %s crashed", count)
                        console.print(f"[red]{flow.capitalize()}{safe(label)} crashed:[/] {type(error).__name__}: "
                                      f"{safe(error)}")
            if cycles is not None and count >= cycles:
                break
            time.sleep(max(0.0, minutes * 60 - (time.monotonic() - started)))
    except KeyboardInterrupt:
        console.print("Stopped polling.")
