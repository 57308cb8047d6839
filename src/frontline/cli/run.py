"""`frontline run FLOW` (once, cron-friendly) and `frontline poll` (every few minutes)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import click

from frontline.app import triage_services
from frontline.cli import cli
from frontline.cli.common import ConsoleReporter, console, print_summary, settings_from
from frontline.config import Settings
from frontline.errors import FrontlineError
from frontline.flows.triage import RunSummary, run_triage

log = logging.getLogger("frontline")


def connector_options(func: Any) -> Any:
    """Flags that override the configured connectors for one run."""
    func = click.option("--classifier", type=click.Choice(["cascade", "model", "rules", "llm"]),
                        help="Override classifier.kind.")(func)
    func = click.option("--chat", help="Chat connector (e.g. outbox).")(func)
    func = click.option("--kb", help="Knowledge-base connector (e.g. local).")(func)
    func = click.option("--helpdesk", help="Helpdesk connector (e.g. local).")(func)
    return func


def _overrides(helpdesk: str | None, kb: str | None, chat: str | None,
               classifier: str | None) -> dict[tuple[str, ...], Any]:
    return {("connectors", "helpdesk"): helpdesk, ("connectors", "kb"): kb, ("connectors", "chat"): chat,
            ("classifier", "kind"): classifier}


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
def run_command(ctx: click.Context, flow: str, dry_run: bool, limit: int | None, quiet: bool,
                helpdesk: str | None, kb: str | None, chat: str | None, classifier: str | None) -> None:
    """Run a flow once over everything new (cron-friendly); exits 1 when an item failed."""
    settings = settings_from(ctx, _overrides(helpdesk, kb, chat, classifier))
    summary = asyncio.run(triage_once(settings, dry_run=dry_run, limit=limit, quiet=quiet))
    print_summary(summary)
    if summary.failures:
        ctx.exit(1)


@cli.command("poll")
@click.option("--interval", type=click.FloatRange(min=0.05), default=None,
              help="Minutes between cycles (default: runner.poll_interval_minutes).")
@click.option("--cycles", type=click.IntRange(min=1), default=None, help="Stop after this many cycles.")
@click.option("--quiet", "-q", is_flag=True, help="No per-ticket lines, only summaries.")
@connector_options
@click.pass_context
def poll_command(ctx: click.Context, interval: float | None, cycles: int | None, quiet: bool,
                 helpdesk: str | None, kb: str | None, chat: str | None, classifier: str | None) -> None:
    """Run triage every few minutes; a failing cycle is logged and the next one runs. Ctrl+C stops."""
    settings = settings_from(ctx, _overrides(helpdesk, kb, chat, classifier))
    minutes = interval if interval is not None else settings.runner.poll_interval_minutes
    count = 0
    try:
        while cycles is None or count < cycles:
            count += 1
            started = time.monotonic()
            try:
                summary = asyncio.run(triage_once(settings, dry_run=False, limit=None, quiet=quiet))
                if summary.handled or summary.failures:
                    print_summary(summary, title=f"Cycle {count}")
                else:
                    console.print(f"Cycle {count}: nothing new.")
            except FrontlineError as error:
                console.print(f"[red]Cycle {count} failed:[/] {error} The next cycle runs as planned.")
            except Exception as error:  # keep polling through bugs; the log has the details
                log.exception("poll cycle %s crashed", count)
                console.print(f"[red]Cycle {count} crashed:[/] {type(error).__name__}: {error}")
            if cycles is not None and count >= cycles:
                break
            time.sleep(max(0.0, minutes * 60 - (time.monotonic() - started)))
    except KeyboardInterrupt:
        console.print("Stopped polling.")
