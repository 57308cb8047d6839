"""`frontline doctor`: checks every configured connector and says how to fix what is wrong."""

from __future__ import annotations

import asyncio

import click

from frontline.cli.common import connector_options, console, overrides, safe, selected_teams, settings_from
from frontline.cli.group import cli
from frontline.doctor import diagnose


@cli.command("doctor")
@connector_options
@click.pass_context
def doctor_command(ctx: click.Context, /, team: str | None, **connectors: str | None) -> None:
    """Check each configured connector with one cheap call: ACTIVE, or what is wrong and how to fix it."""
    teams = selected_teams(settings_from(ctx, overrides(**connectors)), team)
    failed = 0
    for name, settings in teams:
        if name != "default":
            console.print(f"[bold]team {safe(name)}[/] ({safe(settings.source)})")
        for check in asyncio.run(diagnose(settings)):
            mark = "[green]✓[/]" if check.ok else "[red]✗[/]"
            console.print(f"{mark} {safe(check.connector):<28} {safe(check.detail)}")
            if check.fix:
                console.print(f"  {'':<28} [dim]→ {safe(check.fix)}[/]")
            failed += not check.ok
    if failed:
        console.print(f"\n{failed} problem{'s' * (failed != 1)} found.")
        ctx.exit(1)
    console.print("\nEverything is ready.")
