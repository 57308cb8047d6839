"""`frontline demo`: a complete offline workspace, triaged end to end in well under a minute."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from frontline.cli.common import console, safe
from frontline.cli.group import cli
from frontline.cli.run import flow_once, print_flow_summary
from frontline.config import Settings


@cli.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("frontline-demo"),
              show_default=True, help="Where to build the demo workspace (rebuilt on each run).")
@click.option("--tickets", type=click.IntRange(1, 100_000), default=120, show_default=True)
@click.option("--conversations", type=click.IntRange(0, 100_000), default=150, show_default=True)
@click.option("--history", type=click.IntRange(100, 100_000), default=3000, show_default=True,
              help="Past tickets the demo's model is trained on (fewer: a quicker, rougher model).")
@click.option("--storm", type=click.IntRange(0, 10_000), default=0, show_default=True,
              help="Also this many customers reporting one failure within the hour: triage opens an incident.")
@click.option("--quiet", "-q", is_flag=True, help="No per-ticket or per-escalation lines, only the summaries.")
def demo(folder: Path, tickets: int, conversations: int, history: int, storm: int, quiet: bool) -> None:
    """Build a demo workspace (tickets, conversations, KB, trained model); run triage and escalate on it, offline."""
    from frontline.demo.workspace import build_demo

    started = time.perf_counter()
    console.print(f"Building the demo workspace in {safe(folder)} …")
    workspace = build_demo(folder, tickets=tickets, conversations=conversations, history=history, storm=storm)
    accuracy = f" (cross-validated accuracy {workspace.model_accuracy:.0%})" if workspace.model_accuracy else ""
    console.print(f"  {workspace.articles} KB articles indexed, model trained on {workspace.history} past "
                  f"tickets{accuracy}, {workspace.tickets} new tickets and {workspace.conversations} "
                  "conversations imported.\n")
    summary = asyncio.run(flow_once("triage", workspace.settings, dry_run=False, limit=None, quiet=quiet))
    print_flow_summary("triage", summary)
    settings = workspace.settings
    console.print(_incidents(settings))
    console.print()
    # Scored as of the moment the conversations end, not the minute the build finished: the same figures every run.
    escalated = asyncio.run(flow_once("escalate", settings, dry_run=False, limit=None, quiet=quiet,
                                      now=lambda: workspace.now))
    print_flow_summary("escalate", escalated)
    console.print(_against_ground_truth(settings))
    console.print(f"\nDone in {time.perf_counter() - started:.1f}s.")
    console.print(f"  database: {safe(settings.state_url.removeprefix('sqlite:///'))}")
    console.print(f"  helpdesk: {safe(settings.path('helpdesk.db'))}")
    console.print(f"  outbox:   {safe(settings.path(settings.local.outbox))} (Slack Block Kit payloads)")
    console.print(f"  issues:   {safe(settings.path('issues'))} (the embedded tracker's escalation issues)")
    console.print("\nTry next:")
    console.print(f"  frontline --config {safe(workspace.config)} state show 1001")
    console.print(f"  frontline --config {safe(workspace.config)} kb search \"reset password\"")
    console.print(f"  frontline --config {safe(workspace.config)} run triage   # a second run alerts nothing new")
    console.print(f"  frontline --config {safe(workspace.config)} run escalate # nor does a second escalation run")


def _incidents(settings: Settings) -> str:
    """The incidents triage opened: how many, and the customers and tickets in each."""
    from frontline.store.related import RelatedStore
    from frontline.store.state import StateStore

    store = StateStore.open(settings.state_url)
    try:
        found = RelatedStore(store.engine).incidents_of("triage")
    finally:
        store.close()
    if not found:
        return "  incidents: none"
    shown = "; ".join(f"{safe(i.id)}: {len({m.customer for m in i.members})} customers, {len(i.members)} tickets"
                      for i in found[:5])
    return f"  incidents: {len(found)} ({shown})"


def _against_ground_truth(settings: Settings) -> str:
    """How the escalations compare with the generator's labels, on the conversations still open."""
    from frontline.connectors.local.conversations import LocalConversations
    from frontline.store.state import StateStore

    source = LocalConversations.from_settings(settings)
    labels = source.labels()
    open_ids = [cid for cid in labels if run_sync(source.get(cid)).state != "closed"]
    store = StateStore.open(settings.state_url)
    try:
        escalated = store.handled_among("escalate", open_ids)
    finally:
        store.close()
    truth = {cid for cid in open_ids if labels[cid].get("escalate")}
    hits = len(truth & escalated)
    precision = hits / len(escalated) if escalated else 1.0
    recall = hits / len(truth) if truth else 1.0
    return (f"  against the demo data's ground truth ({len(open_ids)} open conversations): "
            f"precision {precision:.0%}, recall {recall:.0%}")


T = TypeVar("T")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine to completion."""
    return asyncio.run(coroutine)
