"""`frontline import tickets|conversations FILE`: load data into the embedded default."""

from __future__ import annotations

from pathlib import Path

import click

from frontline.cli import cli
from frontline.cli.common import console, plural, settings_from
from frontline.connectors.local.conversations import LocalConversations
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.importer import read_conversations, read_tickets


@cli.group("import")
def import_group() -> None:
    """Import data into the embedded default."""


@import_group.command("tickets")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def import_tickets(ctx: click.Context, file: Path) -> None:
    """Import tickets from CSV or JSONL; bad rows are reported by line and skipped."""
    settings = settings_from(ctx)
    report = read_tickets(file)
    for line, reason in report.errors[:50]:
        console.print(f"[yellow]{file}:{line}[/]: skipped, row {reason}")
    if len(report.errors) > 50:
        console.print(f"… and {len(report.errors) - 50} more skipped rows")
    helpdesk = LocalHelpdesk.from_settings(settings)
    created, updated = helpdesk.upsert(report.records)
    note = f" (decoded as {report.encoding})" if report.encoding not in ("utf-8", "utf-8-sig") else ""
    console.print(f"Imported {created} new and {updated} updated tickets from {file}{note} into "
                  f"{helpdesk.path}; {plural(len(report.errors), 'row')} skipped.")
    if report.truncated:
        console.print(f"{plural(report.truncated, 'description')} longer than 1 MB truncated to 1 MB.")
    if report.errors and not report.records:
        ctx.exit(1)


@import_group.command("conversations")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def import_conversations(ctx: click.Context, file: Path) -> None:
    """Import conversations (JSON lines, Intercom-like: parts, contact, company) into the embedded source."""
    settings = settings_from(ctx)
    report = read_conversations(file)
    for line, reason in report.errors[:50]:
        console.print(f"[yellow]{file}:{line}[/]: skipped, {reason}")
    if len(report.errors) > 50:
        console.print(f"… and {len(report.errors) - 50} more skipped lines")
    source = LocalConversations.from_settings(settings)
    created, updated = source.upsert(report.records)
    console.print(f"Imported {created} new and {updated} updated conversations from {file} into {source.path}; "
                  f"{plural(len(report.errors), 'line')} skipped.")
    if report.errors and not report.records:
        ctx.exit(1)
