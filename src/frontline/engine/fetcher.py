"""The fetcher of `frontline worker`: one worker at a time turns each flow's source into inbox entries.

The role is a claim in the state store (``worker`` / ``fetcher``) with a short lease that its holder
renews while it lives; when the holder dies the lease runs out and another worker takes over. A
fetch lists each flow's changed items after the saved cursor and enqueues them (source ``poll``,
delivery = flow, item id and item version, so an unchanged item is enqueued once however often it
is listed), then moves the cursor: whatever is behind the cursor is in the inbox, durable until a
worker has processed it. Items a person requeued (`frontline state forget`) and watched
conversations whose time signal is due are enqueued too.

An entry the source lists but cannot read (``Page.unreadable``) cannot be enqueued: it is logged
and kept in ``Fetcher.unreadable`` for the worker to report, and the cursor stays before its page,
so the next fetch lists it again instead of passing it.

An entry carries the item as listed, so the worker that processes it does not read it again (one
API call and one rate-budget token saved per item); a later change is a new version and so a new
entry. Entries from webhooks carry no item: the worker reads those from the source.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from frontline.flows.base import POLL, Flow
from frontline.store.inbox import Entry, Inbox, delivery_id
from frontline.store.state import StateStore

log = logging.getLogger("frontline.worker")
ROLE = ("worker", "fetcher")  # the claim that makes a worker the fetcher
__all__ = ["POLL", "ROLE", "Fetcher", "Lane"]


@dataclass
class Lane:
    """One flow of one team: its stored name (``triage``, ``escalate@emea``), the flow, and its opened services."""

    flow: str
    unit: Flow
    services: Any

    @property
    def cursor_key(self) -> str:
        """The saved position in the source, shared with `frontline run` and `poll`."""
        return str(self.services.cursor_key)


class Fetcher:
    """Lists the lanes' sources and enqueues what changed, while its worker holds the role."""

    def __init__(self, store: StateStore, inbox: Inbox, lanes: list[Lane], owner: str, *,
                 still_fetcher: Callable[[], bool]) -> None:
        self.store = store
        self.inbox = inbox
        self.lanes = lanes
        self.owner = owner
        self.still_fetcher = still_fetcher
        # (flow, id or position, reason) of each listed entry the last fetch could not read.
        self.unreadable: list[tuple[str, str, str]] = []

    async def fetch(self, stopping: Callable[[], bool]) -> int:
        """Enqueue every lane's new work; returns how many entries are new. Stops between pages when asked."""
        added = 0
        self.unreadable = []
        for lane in self.lanes:
            if stopping() or not self.still_fetcher():
                break
            if not lane.unit.lists:
                continue
            added += await self._revisits(lane)
            added += await self._changed(lane, stopping)
        await asyncio.to_thread(self.inbox.prune)
        return added

    async def _revisits(self, lane: Lane) -> int:
        """Requeued items (and those the flow watches, now due), read again by the worker."""
        store = self.store
        wanted = await asyncio.to_thread(store.requeued, lane.flow)
        stamp = datetime.now(UTC).isoformat()
        entries = [Entry(POLL, delivery_id(lane.flow, item_id, "requeue", stamp), lane.flow, item_id)
                   for item_id in wanted]
        due = await asyncio.to_thread(lane.unit.due, lane.services)
        entries += [Entry(POLL, delivery_id(lane.flow, item_id, "due", at.isoformat()), lane.flow, item_id)
                    for item_id, at in due]
        added = await asyncio.to_thread(self.inbox.add_many, entries)
        # Queued now: the inbox keeps them until processed (a crash before this line queues them twice,
        # and the second is skipped as handled).
        await asyncio.to_thread(store.dequeue, lane.flow, wanted)
        return added

    async def _changed(self, lane: Lane, stopping: Callable[[], bool]) -> int:
        """Page through the source after the cursor, enqueue each page, then move the cursor past it."""
        store = self.store
        size = lane.services.settings.runner.batch_size
        cursor = await asyncio.to_thread(store.get_cursor, lane.cursor_key)
        added = 0
        held = False  # a page had an entry that could not be read: the saved cursor stays before it
        while True:
            page = await lane.unit.list_after(lane.services, cursor, size)
            for label, reason in page.unreadable:
                log.warning("%s: could not read listed item %s: %s", lane.flow, label, reason)
                self.unreadable.append((lane.flow, label, reason))
            held = held or bool(page.unreadable)
            items = list({item.id: item for item in page.items}.values())
            entries = [Entry(POLL, delivery_id(lane.flow, item.id, lane.unit.version(item)), lane.flow, item.id,
                             {"item": lane.unit.dump(item)}) for item in items]
            added += await asyncio.to_thread(self.inbox.add_many, entries)
            if page.cursor is not None and page.cursor != cursor:
                if not held:
                    await asyncio.to_thread(store.set_cursor, lane.cursor_key, page.cursor)
                cursor = page.cursor
            if (not page.has_more or not (page.items or page.unreadable) or stopping()
                    or not self.still_fetcher()):
                return added
