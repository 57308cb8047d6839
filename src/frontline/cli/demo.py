"""`frontline demo`: a complete offline workspace, triaged end to end in well under a minute."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import click

from frontline.cli import cli
from frontline.cli.common import console, print_summary
from frontline.cli.run import triage_once


@cli.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("frontline-demo"),
              show_default=True, help="Where to build the demo workspace (rebuilt on each run).")
@click.option("--tickets", type=click.IntRange(1, 100_000), default=120, show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No per-ticket lines.")
def demo(folder: Path, tickets: int, quiet: bool) -> None:
    """Build a demo workspace (tickets, KB, trained model) and run triage on it, offline, with no key."""
    from frontline.demo.workspace import build_demo

    started = time.perf_counter()
    console.print(f"Building the demo workspace in {folder} …")
    workspace = build_demo(folder, tickets=tickets)
    accuracy = f" (cross-validated accuracy {workspace.model_accuracy:.0%})" if workspace.model_accuracy else ""
    console.print(f"  {workspace.articles} KB articles indexed, model trained on {workspace.history} past "
                  f"tickets{accuracy}, {workspace.tickets} new tickets imported.\n")
    summary = asyncio.run(triage_once(workspace.settings, dry_run=False, limit=None, quiet=quiet))
    print_summary(summary)
    settings = workspace.settings
    console.print(f"\nDone in {time.perf_counter() - started:.1f}s.")
    console.print(f"  database: {settings.state_url.removeprefix('sqlite:///')}")
    console.print(f"  helpdesk: {settings.path('helpdesk.db')}")
    console.print(f"  outbox:   {settings.path(settings.local.outbox)} (Slack Block Kit payloads)")
    console.print("\nTry next:")
    console.print(f"  frontline --config {workspace.config} state show 1001")
    console.print(f"  frontline --config {workspace.config} kb search \"reset password\"")
    console.print(f"  frontline --config {workspace.config} run triage   # a second run alerts nothing new")
