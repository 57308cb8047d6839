"""The cursor every flow's pass walks: pages after the saved position, saved again only past complete pages.

A page whose every item completed moves the saved cursor past it; a page with a failure (or an
entry the source listed but could not read) keeps it where it was, so the next pass lists those
items again instead of passing them. Entries that could not be read are added to the run's
failures by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from frontline.ports import Page
from frontline.store.state import StateStore

ListPage = Callable[[str | None, int], Awaitable[Page[Any]]]
OnPage = Callable[[Sequence[Any]], Awaitable[tuple[bool, int]]]  # the page's items → (all completed, items used)


async def walk(store: StateStore, cursor_key: str, list_page: ListPage, on_page: OnPage, *, batch: int,
               limit: int | None, dry_run: bool, failures: list[tuple[str, str]]) -> None:
    """List pages after the saved cursor and hand each to ``on_page`` until the source is done or ``limit`` is used.

    ``on_page`` answers whether every item completed and how many of ``limit`` it used. A dry run
    never moves the cursor.
    """
    saved = store.get_cursor(cursor_key)
    cursor, clean, remaining = saved, True, limit
    while remaining is None or remaining > 0:
        page = await list_page(cursor, batch if remaining is None else min(batch, remaining))
        failures.extend(page.unreadable)
        clean = clean and not page.unreadable
        ok, used = await on_page(list({item.id: item for item in page.items}.values()))
        clean = clean and ok
        if remaining is not None:
            remaining -= used
        cursor = page.cursor
        if clean and not dry_run and cursor != saved:
            store.set_cursor(cursor_key, cursor)
            saved = cursor
        if not page.has_more or not (page.items or page.unreadable):
            break
