"""The one inbox consumer, for `serve` and `worker` alike: read, claim, handle, settle.

For a batch of one flow's leased entries:

1. **Read** each entry's item: the copy a poll entry carries, else the item read again from its
   source (a webhook's notification may be stale or partial). One read per item however many
   entries name it. An item gone from the source settles its entry as done ("gone"); a source
   that cannot be read fails the entry, to come back after a back-off.
2. **Skip** what the flow no longer wants (``Flow.wanted``: a ticket solved before it was reached
   gets no alert). Such entries are done. ``serve`` did this and ``worker`` did not; now both do,
   the way ``run`` does (a source lists only new and open tickets).
3. **Claim** the items for this process (a claim left by a dead process of this machine is taken
   over). An item someone else holds right now is *given back* untouched, to be tried again in
   ``BUSY_RETRY`` seconds without spending an attempt; ``serve`` used to settle such a conversation
   as done and a ticket as failed. The claim replaces the lock ``serve`` held between its poller and
   its inbox: a poll pass claims its pages the same way, so one of the two waits for the other and
   then finds the item handled.
4. **Handle** the claimed items with the flow (``Flow.handle``) and release the claims.
5. **Settle**: finished items' entries are done; a failure fails its entries with the flow's
   reason (the entry comes back after a back-off, a bounded number of times). A crash of the
   handler fails every entry of the batch the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

from frontline.engine.fetcher import Lane
from frontline.errors import NotFoundError, describe
from frontline.flows.base import POLL
from frontline.runtime import owners
from frontline.store.inbox import Delivery, Inbox
from frontline.store.state import StateStore

log = logging.getLogger("frontline.worker")
BUSY_RETRY = 2.0  # seconds before an entry whose item another process holds is tried again


def backoff(delivery: Delivery) -> float:
    """Seconds before a failed entry is tried again: doubling from 30 s, at most an hour."""
    return float(min(30 * 2 ** max(delivery.attempts - 1, 0), 3600))


class Consumer:
    """Settles leased inbox entries of any flow for ``owner``; ``settled`` names the entries settled so far."""

    def __init__(self, store: StateStore, inbox: Inbox, owner: str, *, claim_seconds: float = 300.0) -> None:
        self.store = store
        self.inbox = inbox
        self.owner = owner
        self.claim_seconds = claim_seconds
        self.settled: set[int] = set()

    async def process(self, lane: Lane, group: Sequence[Delivery]) -> Counter[str]:
        """Read, claim, handle and settle one flow's entries (oldest first); returns the counts."""
        counts: Counter[str] = Counter()
        unit, services = lane.unit, lane.services
        found: dict[str, Any] = {}
        unwanted: set[str] = set()
        for delivery in group:  # oldest first: a later entry's copy of an item is the newer one
            key = unit.key(delivery)
            if key in found and not _carries_item(delivery):
                continue
            try:
                item = await unit.read(services, delivery)
            except NotFoundError:  # gone from the source: nothing to do
                await asyncio.to_thread(unit.gone, services, [delivery.item_id])
                await self._done([delivery], counts, "gone")
                continue
            except Exception as error:
                await self._failed(delivery, describe(error), counts)
                continue
            found[key] = item
            if not unit.wanted(item):
                unwanted.add(key)
        waiting = [d for d in group if d.id not in self.settled]
        await self._done([d for d in waiting if unit.key(d) in unwanted], counts, "closed")
        items = {key: item for key, item in found.items() if key not in unwanted}
        waiting = [d for d in waiting if d.id not in self.settled]
        if unit.claims:
            claimed = await asyncio.to_thread(self.store.claim_or_take_over, lane.flow, list(items), self.owner,
                                              self.claim_seconds, dead=owners.gone)
        else:
            claimed = set(items)
        busy = [d for d in waiting if unit.key(d) not in claimed]
        if busy:
            await asyncio.to_thread(self.inbox.release, self.owner, [d.id for d in busy], retry_in=BUSY_RETRY)
            self.settled.update(d.id for d in busy)
            counts["busy"] += len(busy)
        waiting = [d for d in waiting if d.id not in self.settled]
        if not claimed:
            return counts
        try:
            handled = await unit.handle(services, [items[key] for key in items if key in claimed], owner=self.owner,
                                        claim_seconds=self.claim_seconds)
        except Exception as error:
            log.exception("%s of %d items failed", lane.flow, len(claimed))
            for delivery in waiting:
                await self._failed(delivery, describe(error), counts)
            return counts
        finally:
            if unit.claims:
                await asyncio.to_thread(self.store.release_many, lane.flow, sorted(claimed), self.owner)
        counts.update(handled.counts)
        await self._done([d for d in waiting if unit.key(d) in handled.finished], counts, "done")
        for delivery in waiting:
            key = unit.key(delivery)
            if key not in handled.finished:
                await self._failed(delivery, handled.failures.get(key, f"{unit.name} did not complete"), counts)
        return counts

    async def _done(self, deliveries: list[Delivery], counts: Counter[str], label: str) -> None:
        if deliveries:
            await asyncio.to_thread(self.inbox.done_many, [d.id for d in deliveries])
            self.settled.update(d.id for d in deliveries)
            counts["done"] += len(deliveries)
            if label != "done":
                counts[label] += len(deliveries)

    async def _failed(self, delivery: Delivery, reason: str, counts: Counter[str]) -> None:
        await asyncio.to_thread(self.inbox.failed, delivery.id, reason, retry_in=backoff(delivery))
        self.settled.add(delivery.id)
        counts["failed"] += 1


def _carries_item(delivery: Delivery) -> bool:
    """A poll entry with the item as listed (a later one is a newer copy, worth loading)."""
    return delivery.source == POLL and isinstance(delivery.payload, dict) and "item" in delivery.payload
