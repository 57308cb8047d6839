"""Items a person asked to redo (``frontline state forget``), read again and handed to a flow's pass.

The same for every flow, so a new flow gets ``state forget`` by calling :func:`take_requeued` at the
start of its pass: the requeued ids (oldest request first, at most ``limit``) are read again from
the source, even behind the cursor; one the source no longer has leaves the queue; one that could
not be read is a failure by name and stays queued for the next pass; the rest go to the flow, and
leave the queue once the flow recorded them handled. A dry run hands them over too (to show what
the next pass will do) and leaves the queue as it was. ``worker`` takes the same queue through its
fetcher (:mod:`frontline.engine.fetcher`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from frontline.errors import NotFoundError, describe
from frontline.store.state import StateStore

Get = Callable[[str], Awaitable[Any]]  # one item read again from its source (NotFoundError: it is gone)


async def read_again(get: Get, item_ids: Sequence[str], failures: list[tuple[str, str]]
                     ) -> tuple[list[Any], list[str]]:
    """(the items read again, the ids the source no longer has); one that could not be read is a failure."""
    found: list[Any] = []
    gone: list[str] = []
    for item_id in item_ids:
        try:
            found.append(await get(item_id))
        except NotFoundError:
            gone.append(item_id)
        except Exception as error:  # the source is down: it stays where it was, for the next pass
            failures.append((item_id, f"could not read it again: {describe(error)}"))
    return found, gone


async def take_requeued(store: StateStore, flow: str, get: Get, handle: Callable[[list[Any]], Awaitable[object]],
                        *, dry_run: bool, limit: int | None, failures: list[tuple[str, str]],
                        gone: Callable[[list[str]], None] | None = None) -> int:
    """Hand ``flow``'s requeued items, read again with ``get``, to ``handle``; returns how many of ``limit`` they used.

    ``gone`` hears the ids the source no longer has (a flow forgets what waits on them).
    """
    wanted = store.requeued(flow)
    if limit is not None:
        wanted = wanted[:limit]
    if not wanted:
        return 0
    items, missing = await read_again(get, wanted, failures)
    if not dry_run and missing:
        store.dequeue(flow, missing)
        if gone is not None:
            gone(missing)
    await handle(items)
    if not dry_run and items:
        store.dequeue(flow, sorted(store.handled_among(flow, [item.id for item in items])))
    return len(items)
