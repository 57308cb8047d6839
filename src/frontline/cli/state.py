"""`frontline state show|forget ID`: inspect or reset what frontline remembers about an item."""

from __future__ import annotations

import json
from typing import Any

import click

from frontline.cli.common import console, safe, settings_from
from frontline.cli.group import cli
from frontline.model import normalise_id
from frontline.store.related import RelatedStore
from frontline.store.state import StateStore


@cli.group("state")
def state_group() -> None:
    """Inspect or reset stored state."""


@state_group.command("show")
@click.argument("item_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (what is printed either way).")
@click.pass_context
def show(ctx: click.Context, item_id: str, as_json: bool) -> None:
    """Show what is stored for an item: decisions, effects, duplicates (scored), incident, SLA, language, re-triages."""
    settings = settings_from(ctx)
    store = StateStore.open(settings.state_url)
    state = store.item_state(normalise_id(item_id))
    state.update(RelatedStore(store.engine).links(normalise_id(item_id)))
    if not (state["handled"] or state["decisions"] or state["effects"]):
        console.print(f"Nothing stored for {safe(item_id)}: it has not been handled yet.")
        ctx.exit(1)
    # The due times and language of the latest triage decision that set them (flows.sla, decide.language).
    for name in ("sla", "language"):
        state[name] = _latest(state["decisions"], name)
    # Each time the customer wrote again and the ticket was decided again: when, what changed (flows.retriage).
    state["retriage"] = [row["fields"]["retriage"] for row in state["decisions"]
                         if isinstance(row.get("fields"), dict) and isinstance(row["fields"].get("retriage"), dict)]
    console.print_json(json.dumps(state, default=str))


def _latest(decisions: list[dict[str, Any]], name: str) -> Any:
    """The field ``name`` of the latest decision that set it, or None."""
    return next((row["fields"][name] for row in reversed(decisions)
                 if isinstance(row.get("fields"), dict) and row["fields"].get(name)), None)


@state_group.command("forget")
@click.argument("item_id")
@click.option("--flow", help="Forget only for this flow (default: all flows).")
@click.pass_context
def forget(ctx: click.Context, item_id: str, flow: str | None) -> None:
    """Forget that an item was handled, so the next run handles it again."""
    settings = settings_from(ctx)
    store = StateStore.open(settings.state_url)
    removed = store.forget(normalise_id(item_id), flow)
    if removed:
        console.print(f"Forgot {safe(item_id)}; the next run will handle it again.")
    else:
        console.print(f"{safe(item_id)} was not marked handled; nothing to forget.")
