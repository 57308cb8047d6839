"""`frontline import tickets|conversations FILE`: load data into the embedded default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from frontline.cli import cli
from frontline.cli.common import console, plural, settings_from
from frontline.connectors.local.conversations import LocalConversations
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.importer import ImportReport, read_conversations, read_tickets


@cli.group("import")
def import_group() -> None:
    """Import data into the embedded default."""


def _report(ctx: click.Context, file: Path, report: ImportReport, store: Any, what: str, unit: str) -> None:
    """Print the skipped rows (the first 50) and the totals; exit 1 when nothing could be imported."""
    for line, reason in report.errors[:50]:
        console.print(f"[yellow]{file}:{line}[/]: skipped, {unit} {reason}")
    if len(report.errors) > 50:
        console.print(f"… and {len(report.errors) - 50} more skipped {unit}s")
    created, updated = store.upsert(report.records)
    note = f" (decoded as {report.encoding})" if report.encoding not in ("utf-8", "utf-8-sig") else ""
    console.print(f"Imported {created} new and {updated} updated {what} from {file}{note} into "
                  f"{store.path}; {plural(len(report.errors), unit)} skipped.")
    if report.truncated:
        console.print(f"{plural(report.truncated, 'description')} longer than 1 MB truncated to 1 MB.")
    if report.errors and not report.records:
        ctx.exit(1)


@import_group.command("tickets")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def import_tickets(ctx: click.Context, file: Path) -> None:
    """Import tickets from CSV or JSONL; bad rows are reported by line and skipped."""
    report = read_tickets(file)
    _report(ctx, file, report, LocalHelpdesk.from_settings(settings_from(ctx)), "tickets", "row")


@import_group.command("conversations")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def import_conversations(ctx: click.Context, file: Path) -> None:
    """Import conversations (JSON lines, Intercom-like: parts, contact, company) into the embedded source."""
    report = read_conversations(file)
    _report(ctx, file, report, LocalConversations.from_settings(settings_from(ctx)), "conversations", "line")
