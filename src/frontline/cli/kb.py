"""`frontline kb index DIR` and `frontline kb search QUERY` for the embedded knowledge base."""

from __future__ import annotations

from pathlib import Path

import click

from frontline.cli.common import console, safe, settings_from
from frontline.cli.group import cli
from frontline.connectors.local.kb import LocalKnowledgeBase


@cli.group("kb")
def kb_group() -> None:
    """The embedded markdown knowledge base."""


@kb_group.command("index")
@click.argument("folder", type=click.Path(path_type=Path))
@click.pass_context
def index(ctx: click.Context, folder: Path) -> None:
    """Index the markdown files in FOLDER (new, changed and removed files)."""
    settings = settings_from(ctx)
    kb = LocalKnowledgeBase(settings.path("kb.db"), encoder=settings.local.kb_embeddings)
    report = kb.index(folder)
    console.print(f"Indexed {safe(folder)}: {report.added} added, {report.updated} updated, {report.removed} removed; "
                  f"{report.total} articles in {safe(kb.index_path)}.")
    if report.skipped:
        shown = ", ".join(report.skipped[:10]) + (f" and {len(report.skipped) - 10} more" if len(report.skipped) > 10
                                                  else "")
        console.print(f"[yellow]Skipped {len(report.skipped)}[/] (symbolic links are not followed, and only regular "
                      f"files are read): {safe(shown)}. Copy those articles into the folder to index them.")


@kb_group.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("-k", "limit", type=click.IntRange(1, 50), default=3, show_default=True)
@click.pass_context
def search(ctx: click.Context, query: tuple[str, ...], limit: int) -> None:
    """Search the indexed articles."""
    settings = settings_from(ctx)
    kb = LocalKnowledgeBase(settings.path("kb.db"), encoder=settings.local.kb_embeddings)
    if kb.count() == 0:
        console.print("The knowledge base is empty. Index a folder first: `frontline kb index DIR`.")
        ctx.exit(1)
    results = kb.search_now(" ".join(query), limit)
    if not results:
        console.print("No matching articles.")
    for article in results:
        console.print(f"[bold]{safe(article.title)}[/] ({article.score:.2f})\n  {safe(article.url)}\n"
                      f"  {safe(article.snippet)}")
