"""`frontline worker`: several processes share the flows' work through the state store's inbox.

- **Fetcher** (one worker at a time, :mod:`frontline.engine.fetcher`): enqueues what changed in
  each flow's source and moves the cursor.
- **Every worker** leases a batch of entries (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL,
  so workers never wait for each other's rows; on SQLite the database's write lock serialises the
  lease, which is as safe for several processes of one machine) and hands it to the inbox consumer
  that ``serve`` uses too (:mod:`frontline.engine.consumer`): it reads, claims, calls the flow's
  ``handle`` and settles each entry — done, failed (it comes back after a pause, a bounded number
  of times), or given back untouched when another worker holds its item.
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

from frontline.engine.consumer import BUSY_RETRY, Consumer
from frontline.engine.fetcher import ROLE, Fetcher, Lane
from frontline.runtime import owners
from frontline.store.inbox import Delivery, Inbox
from frontline.store.state import StateStore

log = logging.getLogger("frontline.worker")


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
        self.consumer = Consumer(store, self.inbox, self.owner, claim_seconds=options.lease_seconds)
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
                batch = [d for d in self._batch if d.id not in self.consumer.settled]
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
        self._batch, self.consumer.settled = batch, set()
        started = time.perf_counter()
        self._task = asyncio.create_task(self._process(batch))
        try:
            counts = await self._task
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            await self._give_back(batch)
            self.report(f"stopped mid-batch: {len(batch) - len(self.consumer.settled)} entries given back")
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
            counts[flow] = await self.consumer.process(self.lanes[flow], [d for d in batch if d.flow == flow])
            self.totals.counts.update({k: counts[flow][k] for k in ("done", "failed", "busy")})
        return counts

    async def _give_back(self, batch: list[Delivery]) -> None:
        """Stopped mid-batch: unsettled entries go back to the queue, and this worker's claims are dropped."""
        unsettled = [d for d in batch if d.id not in self.consumer.settled]
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
    order = ("handled", "escalated", "skipped", "closed", "gone", "busy", "failed")
    words = {"handled": "handled", "escalated": "escalated", "skipped": "already handled", "closed": "closed since",
             "gone": "gone", "busy": "held by another worker", "failed": "failed"}
    shown = [f"{counts[k]} {words[k]}" for k in order if counts[k]]
    if not shown:
        return "nothing to do"
    return ", ".join(shown)
