"""`frontline worker`: several processes share the flows' work through the state store's inbox.

- **Fetcher** (one worker at a time, :mod:`frontline.runtime.fetcher`): enqueues what changed in
  each flow's source and moves the cursor.
- **Every worker** leases a batch of entries (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL,
  so workers never wait for each other's rows; on SQLite the database's write lock serialises the
  lease, which is as safe for several processes of one machine) and hands it to the flows' own
  entry points, ``TriageRun.handle`` and ``EscalateRun.handle``. Items are claimed while they are
  processed, so two entries naming one item (two versions, or a webhook and a poll) never act
  twice at once; the effects ledger does the rest. Each entry is then settled: done, failed (it
  comes back after a pause, a bounded number of times), or given back untouched when another
  worker holds its item.
- While a batch runs, a heartbeat extends its lease and claims and renews the fetcher role.
- **Shutdown** (SIGTERM, Ctrl+C): the current batch finishes and the worker exits, giving the role
  back; a second signal stops at once and gives the unsettled entries back to the queue without
  spending an attempt (their effects are in the ledger and are checked before anything is redone).
- ``once``: fetch if no other worker does, process until nothing is left to lease, exit. Workers
  started together with ``once`` wait for the one fetching rather than find an empty queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from frontline.errors import FrontlineError, NotFoundError
from frontline.flows.escalate import EscalateRun, EscalateServices
from frontline.flows.triage import TriageRun, TriageServices
from frontline.runtime import owners
from frontline.runtime.fetcher import POLL, ROLE, Fetcher, Lane
from frontline.store.inbox import Delivery, Inbox
from frontline.store.state import StateStore

log = logging.getLogger("frontline.worker")
BUSY_RETRY = 2.0  # seconds before an entry whose item another worker holds is tried again


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker paces itself."""

    batch_size: int = 50
    fetch_every: float = 300.0  # seconds between fetches (the fetcher)
    lease_seconds: float = 300.0  # how long a batch's entries and items stay ours without a heartbeat
    role_seconds: float = 60.0  # the fetcher role's lease: how soon another worker takes over a dead fetcher
    idle_seconds: float = 1.0  # wait when the queue is empty
    once: bool = False


@dataclass
class WorkerTotals:
    """What one worker did, for its closing line."""

    batches: int = 0
    fetched: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # done, failed, busy, unreadable (listed, not read)


def worker_id(*, once: bool = False) -> str:
    """This process's owner id for leases and claims (``once`` workers are recognisable by theirs)."""
    tag = "worker-once" if once else "worker"
    # In the form owners.gone reads, so a worker started after this one was killed takes over at once.
    return owners.this_process(f"{tag}-{secrets.token_hex(3)}")[:100]


def _describe(error: BaseException) -> str:
    return str(error) if isinstance(error, FrontlineError) else f"{type(error).__name__}: {error}"


def _backoff(delivery: Delivery) -> float:
    return float(min(30 * 2 ** max(delivery.attempts - 1, 0), 3600))


class Worker:
    """One `frontline worker` process: fetch when it holds the role, process batches until stopped."""

    def __init__(self, store: StateStore, lanes: Sequence[Lane], options: WorkerOptions, *,
                 report: Callable[[str], None], owner: str | None = None) -> None:
        self.store = store
        self.inbox = Inbox(store.engine)
        self.lanes = {lane.flow: lane for lane in lanes}
        self.options = options
        self.report = report
        self.owner = owner or worker_id(once=options.once)
        self.totals = WorkerTotals()
        self.fetcher = Fetcher(store, self.inbox, list(lanes), self.owner, still_fetcher=lambda: self._role)
        self._role = False
        self._next_fetch = 0.0
        self._stopping = 0  # signals received
        self._wake = asyncio.Event()
        self._batch: list[Delivery] = []
        self._settled: set[int] = set()
        self._task: asyncio.Task[dict[str, Counter[str]]] | None = None

    # -- the loop --------------------------------------------------------------------------------
    async def run(self) -> WorkerTotals:
        """Work until stopped (or, with ``once``, until the queue is drained)."""
        self._install_signals()
        heartbeat = asyncio.create_task(self._heartbeat(), name="heartbeat")
        try:
            while not self._stopping:
                await self._fetch_turn()
                if self._stopping:
                    break
                batch = await asyncio.to_thread(self.inbox.lease, self.owner, flows=list(self.lanes),
                                                limit=self.options.batch_size, seconds=self.options.lease_seconds,
                                                dead=owners.gone)
                if batch:
                    await self._run_batch(batch)
                    continue
                if self.options.once and await self._drained():
                    break
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.options.idle_seconds)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            if self._role:
                await asyncio.to_thread(self.store.release, *ROLE, self.owner)
                self._role = False
            self._remove_signals()
        return self.totals

    def stop(self) -> None:
        """First call: finish the current batch, then exit. Second call: stop now, giving the batch back."""
        self._stopping += 1
        self._wake.set()
        if self._stopping == 1:
            if self._task is not None:
                self.report("Stopping after this batch (again to stop now).")
        elif self._task is not None:
            self._task.cancel()

    async def _fetch_turn(self) -> None:
        """Fetch when it is time and this worker holds (or can take) the fetcher role."""
        if time.monotonic() < self._next_fetch:
            return
        self._role = await asyncio.to_thread(self.store.claim, *ROLE, self.owner, self.options.role_seconds)
        if not self._role:  # someone else fetches; look again when a dead holder's lease would have run out
            self._next_fetch = time.monotonic() + min(self.options.fetch_every, self.options.role_seconds)
            return
        started = time.perf_counter()
        added = await self.fetcher.fetch(lambda: bool(self._stopping))
        self.totals.fetched += added
        unreadable = self.fetcher.unreadable
        if unreadable:
            self.totals.counts["unreadable"] += len(unreadable)
            flow, label, reason = unreadable[0]
            more = f" (and {len(unreadable) - 1} more, see the log)" if len(unreadable) > 1 else ""
            self.report(f"could not read {len(unreadable)} listed item{'s' * (len(unreadable) != 1)}: {flow} "
                        f"{label}: {reason}{more}; the cursor stays before it until it can be read")
        self._next_fetch = time.monotonic() + (float("inf") if self.options.once else self.options.fetch_every)
        if added:
            waiting = (await asyncio.to_thread(self.inbox.depth, list(self.lanes)))["waiting"]
            self.report(f"fetched {added:,} new item{'s' * (added != 1)} in {time.perf_counter() - started:.2f}s"
                        f" · {waiting:,} waiting")
        if self.options.once:  # fetched once: the role is free for whoever comes next
            await asyncio.to_thread(self.store.release, *ROLE, self.owner)
            self._role = False

    async def _drained(self) -> bool:
        """Nothing to lease soon, and no ``once`` worker is still fetching (it would enqueue more)."""
        holder = await asyncio.to_thread(self.store.holder, *ROLE)
        if holder is not None and holder != self.owner and ":worker-once-" in holder:
            return False
        return await asyncio.to_thread(self.inbox.pending, list(self.lanes), within=BUSY_RETRY + 1) == 0

    async def _heartbeat(self) -> None:
        """Keep the fetcher role and the current batch's lease and claims while this worker is alive."""
        every = min(self.options.lease_seconds, self.options.role_seconds) / 3
        while True:
            await asyncio.sleep(every)
            try:
                if self._role:
                    self._role = await asyncio.to_thread(self.store.claim, *ROLE, self.owner,
                                                         self.options.role_seconds)
                batch = [d for d in self._batch if d.id not in self._settled]
                if batch:
                    seconds = self.options.lease_seconds
                    await asyncio.to_thread(self.inbox.extend, self.owner, [d.id for d in batch], seconds)
                    for flow in {d.flow for d in batch}:
                        items = [d.item_id for d in batch if d.flow == flow]
                        await asyncio.to_thread(self.store.renew_claims, flow, items, self.owner, seconds)
            except Exception:  # the database hiccuped: the leases last a while longer, try again
                log.exception("worker heartbeat failed")

    # -- one batch -------------------------------------------------------------------------------
    async def _run_batch(self, batch: list[Delivery]) -> None:
        self._batch, self._settled = batch, set()
        started = time.perf_counter()
        self._task = asyncio.create_task(self._process(batch))
        try:
            counts = await self._task
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            await self._give_back(batch)
            self.report(f"stopped mid-batch: {len(batch) - len(self._settled)} entries given back")
            return
        finally:
            self._task = None
            self._batch = []
        self.totals.batches += 1
        waiting = (await asyncio.to_thread(self.inbox.depth, list(self.lanes)))["waiting"]
        parts = [f"{flow} {sum(c[k] for k in ('done', 'failed', 'busy'))} ({_describe_counts(c)})"
                 for flow, c in sorted(counts.items())]
        self.report(f"batch {self.totals.batches}: {' · '.join(parts)} · {time.perf_counter() - started:.2f}s"
                    f" · {waiting:,} waiting")

    async def _process(self, batch: list[Delivery]) -> dict[str, Counter[str]]:
        counts: dict[str, Counter[str]] = {}
        for flow in dict.fromkeys(d.flow for d in batch):
            lane = self.lanes[flow]
            group = [d for d in batch if d.flow == flow]
            counts[flow] = await (self._triage(lane, group) if lane.kind == "triage" else self._escalate(lane, group))
            self.totals.counts.update({k: counts[flow][k] for k in ("done", "failed", "busy")})
        return counts

    async def _items(self, lane: Lane, group: list[Delivery], counts: Counter[str]) -> dict[str, Any]:
        """The items the entries name: the copy a poll entry carries, else read from the source."""
        found: dict[str, Any] = {}
        for delivery in group:  # oldest first: a later entry's copy of an item is the newer one
            item = lane.load(delivery.payload) if delivery.source == POLL else None
            if item is None and delivery.item_id not in found:
                try:
                    item = await lane.source.get(delivery.item_id)
                except NotFoundError:  # gone from the source: nothing to do
                    if lane.kind == "escalate":
                        await asyncio.to_thread(self.store.unwatch, lane.flow, [delivery.item_id])
                    await self._done([delivery], counts, "gone")
                    continue
                except Exception as error:
                    await self._failed(delivery, _describe(error), counts)
                    continue
            if item is not None:
                found[delivery.item_id] = item
        return found

    async def _triage(self, lane: Lane, group: list[Delivery]) -> Counter[str]:
        counts: Counter[str] = Counter()
        tickets = await self._items(lane, group, counts)
        waiting = [d for d in group if d.id not in self._settled]
        assert isinstance(lane.services, TriageServices)
        run = TriageRun(lane.services)
        run.owner, run.claim_seconds = self.owner, self.options.lease_seconds
        try:
            await run.handle(list(tickets.values()))
        except Exception as error:
            log.exception("triage of %d tickets failed", len(tickets))
            for delivery in waiting:
                await self._failed(delivery, _describe(error), counts)
            return counts
        handled = await asyncio.to_thread(self.store.handled_among, lane.flow, list(tickets))
        reasons = dict(run.summary.failures)
        counts["handled"] += run.summary.handled
        counts["skipped"] += run.summary.skipped
        await self._settle(waiting, handled, reasons, counts)
        return counts

    async def _escalate(self, lane: Lane, group: list[Delivery]) -> Counter[str]:
        counts: Counter[str] = Counter()
        conversations = await self._items(lane, group, counts)
        waiting = [d for d in group if d.id not in self._settled]
        assert isinstance(lane.services, EscalateServices)
        # Claimed here, not only inside the flow: an item another worker holds is given back, not dropped.
        claimed = await asyncio.to_thread(self.store.claim_many, lane.flow, list(conversations), self.owner,
                                          self.options.lease_seconds)
        run = EscalateRun(lane.services)
        run.owner = self.owner
        try:
            await run.handle([c for c in conversations.values() if c.id in claimed])
        except Exception as error:
            log.exception("escalation of %d conversations failed", len(claimed))
            for delivery in waiting:
                await self._failed(delivery, _describe(error), counts)
            return counts
        finally:
            await asyncio.to_thread(self.store.release_many, lane.flow, sorted(claimed), self.owner)
        reasons = dict(run.summary.failures)
        counts["escalated"] += run.summary.escalated
        counts["skipped"] += run.summary.skipped
        finished = {item_id for item_id in claimed if item_id not in reasons}
        await self._settle(waiting, finished, reasons, counts)
        return counts

    async def _settle(self, waiting: list[Delivery], finished: set[str], reasons: dict[str, str],
                      counts: Counter[str]) -> None:
        """Done when the item is finished, failed with the flow's reason, else given back (held elsewhere)."""
        await self._done([d for d in waiting if d.item_id in finished], counts, "done")
        busy = [d for d in waiting if d.item_id not in finished and d.item_id not in reasons]
        for delivery in waiting:
            if delivery.item_id not in finished and delivery.item_id in reasons:
                await self._failed(delivery, reasons[delivery.item_id], counts)
        if busy:
            await asyncio.to_thread(self.inbox.release, self.owner, [d.id for d in busy], retry_in=BUSY_RETRY)
            self._settled.update(d.id for d in busy)
            counts["busy"] += len(busy)

    async def _done(self, deliveries: list[Delivery], counts: Counter[str], label: str) -> None:
        if deliveries:
            await asyncio.to_thread(self.inbox.done_many, [d.id for d in deliveries])
            self._settled.update(d.id for d in deliveries)
            counts["done"] += len(deliveries)
            if label != "done":
                counts[label] += len(deliveries)

    async def _failed(self, delivery: Delivery, reason: str, counts: Counter[str]) -> None:
        await asyncio.to_thread(self.inbox.failed, delivery.id, reason, retry_in=_backoff(delivery))
        self._settled.add(delivery.id)
        counts["failed"] += 1

    async def _give_back(self, batch: list[Delivery]) -> None:
        """Stopped mid-batch: unsettled entries go back to the queue, and this worker's claims are dropped."""
        unsettled = [d for d in batch if d.id not in self._settled]
        await asyncio.to_thread(self.inbox.release, self.owner, [d.id for d in unsettled])
        for flow in {d.flow for d in unsettled}:
            await asyncio.to_thread(self.store.release_many, flow, [d.item_id for d in unsettled if d.flow == flow],
                                    self.owner)

    # -- signals ---------------------------------------------------------------------------------
    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
                loop.add_signal_handler(sig, self.stop)

    def _remove_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


def _describe_counts(counts: Counter[str]) -> str:
    order = ("handled", "escalated", "skipped", "gone", "busy", "failed")
    words = {"handled": "handled", "escalated": "escalated", "skipped": "already handled", "gone": "gone",
             "busy": "held by another worker", "failed": "failed"}
    shown = [f"{counts[k]} {words[k]}" for k in order if counts[k]]
    if not shown:
        return "nothing to do"
    return ", ".join(shown)
