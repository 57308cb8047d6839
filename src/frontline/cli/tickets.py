"""`frontline import tickets|conversations FILE`: load data into the embedded default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from frontline.cli.common import console, plural, safe, settings_from
from frontline.cli.group import cli
from frontline.connectors.local.conversations import LocalConversations
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.importer import ImportReport, read_conversations, read_tickets


@cli.group("import")
def import_group() -> None:
    """Import data into the embedded default."""


def _notices(file: Path, report: ImportReport, noun: str, unit: str) -> list[tuple[int, str]]:
    """Every line a person should look at, as (line, message): decoded, skipped, or replaced by a later one."""
    where = safe(file)
    notices = [(line, f"[yellow]{where}:{line}[/]: decoded as {safe(name)} (not UTF-8)")
               for line, name in report.legacy]
    notices += [(line, f"[yellow]{where}:{line}[/]: skipped, {unit} {safe(reason)}") for line, reason in report.errors]
    notices += [(line, f"[yellow]{where}:{line}[/]: {noun} {safe(item)} also on line {earlier}; the later {unit} wins")
                for line, item, earlier in report.duplicates]
    return sorted(notices, key=lambda notice: notice[0])


def _report(ctx: click.Context, file: Path, report: ImportReport, store: Any, noun: str, unit: str) -> None:
    """Print what needs a look (the first 50 lines) and the totals; exit 1 when a row was skipped.

    The rows that could be read are imported all the same; the exit code tells a script (or cron) that
    some could not, so a skipped row is never lost silently.
    """
    notices = _notices(file, report, noun, unit)
    for _, message in notices[:50]:
        console.print(message)
    if len(notices) > 50:
        console.print(f"… and {len(notices) - 50} more lines to look at (counted below)")
    counts = store.upsert(report.records)
    duplicates = len(report.duplicates)
    console.print(
        f"Imported {counts.created} new, {counts.updated} updated and {counts.unchanged} unchanged {noun}s from "
        f"{safe(file)} into {safe(store.path)}; {plural(report.rows, unit)} read: {len(report.records)} imported, "
        f"{duplicates} {'duplicate' if duplicates == 1 else 'duplicates'} replaced, {len(report.errors)} skipped.")
    if report.legacy:
        console.print(f"{plural(len(report.legacy), 'line')} not in UTF-8 decoded as "
                      f"{safe(' or '.join(sorted({name for _, name in report.legacy})))} (listed above).")
    if report.truncated:
        console.print(f"{plural(report.truncated, 'description')} longer than 1 MB truncated to 1 MB.")
    if report.errors:
        ctx.exit(1)


@import_group.command("tickets")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def import_tickets(ctx: click.Context, file: Path) -> None:
    """Import tickets from CSV or JSONL; bad rows are reported by line and skipped.

    Importing a file again updates the tickets whose content changed and leaves the rest alone;
    the tags, priority, status and notes triage wrote are kept.
    """
    report = read_tickets(file)
    _report(ctx, file, report, LocalHelpdesk.from_settings(settings_from(ctx)), "ticket", "row")


@import_group.command("conversations")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def import_conversations(ctx: click.Context, file: Path) -> None:
    """Import conversations (JSON lines, Intercom-like: parts, contact, company) into the embedded source."""
    report = read_conversations(file)
    _report(ctx, file, report, LocalConversations.from_settings(settings_from(ctx)), "conversation", "line")
