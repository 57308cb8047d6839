"""Token buckets: how a documented limit becomes a bucket, in this process or shared through the store.

How a bucket is sized from a :class:`Limit`:

- ``window`` limits ("400 requests per minute", Zendesk, Intercom): a vendor counting requests in
  windows of ``period`` seconds refuses more than ``amount`` in one window. A bucket holding ``C``
  tokens refilled at ``r`` per second sends at most ``C + r·period`` in any window, so it is sized
  ``C`` ≈ 2% of the amount (at least 1) and ``r = (amount − C)·0.99 / period``: inside the limit in
  every sliding window even when answers arrive up to 1% of a window late, and ~97% of the
  documented throughput.
- ``bucket`` limits ("three requests per second on average, some bursts allowed", Notion, Slack's
  one post per second per channel, Linear's leaky bucket) refill at exactly the documented rate;
  ``burst`` is the capacity.

Waiting is reservation-based (generic cell rate algorithm): each ``take`` books the next free slot
under a lock and sleeps once until it, so concurrent takers queue in order. Time comes from a
:class:`TimeSource` (clock and sleep injectable; ``scale`` runs time faster for the backlog
benchmark, Retry-After included). Nothing here sleeps a fixed time.

A :class:`SharedBucket` keeps its tokens in the state store's ``budgets`` table (see
:mod:`frontline.store.budgets`), so several ``frontline worker`` processes on one account stay inside
one account's limits; tokens are taken a few at a time to keep database round trips low.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from frontline.store.budgets import BudgetTable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

MAX_PAUSE = 120.0  # a 429 pauses a bucket at most this long (real seconds): a run never stalls for hours
WINDOW_MARGIN = 0.01  # share of a window left unused: answers may arrive that much later than sent
WINDOW_BURST = 0.02  # share of a window's amount a window bucket may send at once
BATCH_SECONDS = 0.5  # a shared bucket takes about this many seconds' worth of tokens per round trip
AHEAD_SECONDS = 1.0  # … up to this long before it may spend them, so the round trip is off the critical path
MAX_BATCH = 20
MAX_BUCKETS = 10_000  # past this many (one per ticket…), full idle buckets are forgotten


@dataclass(frozen=True, slots=True)
class TimeSource:
    """Where budgets read the time and how they wait.

    ``clock`` is monotonic, ``wall`` is epoch seconds (what processes sharing a bucket agree on),
    both in the budget's seconds; ``scale`` > 1 makes those seconds pass faster than real ones (a
    benchmark's minute lasting a second), and converts a vendor's Retry-After, given in real
    seconds, into them.
    """

    clock: Clock = time.monotonic
    wall: Clock = time.time
    sleep: Sleep = asyncio.sleep
    scale: float = 1.0

    @classmethod
    def scaled(cls, scale: float) -> TimeSource:
        """Real time sped up ``scale`` times (``scale`` 60: a minute lasts a second)."""
        if scale == 1.0:
            return cls()
        mono, epoch = time.monotonic(), time.time()

        def clock() -> float:
            return mono + (time.monotonic() - mono) * scale

        def wall() -> float:
            return epoch + (time.time() - epoch) * scale

        async def sleep(seconds: float) -> None:
            await asyncio.sleep(seconds / scale)

        return cls(clock, wall, sleep, scale)

    def from_real(self, seconds: float) -> float:
        """Real seconds (a Retry-After header) in this source's seconds."""
        return seconds * self.scale


@dataclass(frozen=True, slots=True)
class Limit:
    """One documented vendor limit: ``amount`` requests (or points) per ``period`` seconds."""

    name: str
    amount: float
    period: float
    kind: Literal["window", "bucket"] = "window"
    burst: float | None = None  # the bucket's capacity; default: see the module docstring
    source: str = ""

    @property
    def capacity(self) -> float:
        """Tokens the bucket holds when full."""
        if self.burst is not None:
            return max(1.0, self.burst)
        if self.kind == "window":
            return max(1.0, math.floor(self.amount * WINDOW_BURST))
        return 1.0

    @property
    def rate(self) -> float:
        """Tokens added per second (``inf``: no limit)."""
        if self.amount <= 0 or self.period <= 0:
            return math.inf
        if self.kind == "window":
            return max(self.amount - self.capacity, 1.0) * (1.0 - WINDOW_MARGIN) / self.period
        return self.amount / self.period


class Bucket(Protocol):
    """What a rule needs of a bucket, local or shared."""

    name: str

    async def take(self, cost: float = 1.0) -> float:
        """Wait until ``cost`` tokens are there and take them; returns the seconds waited."""

    def penalise(self, retry_after: float) -> None:
        """Nothing is taken before ``retry_after`` real seconds from now."""

    def debit(self, cost: float) -> None:
        """Take ``cost`` more tokens without waiting (a cost learnt after the request)."""


class _LoopLock:
    """An asyncio.Lock per event loop (a process-wide bucket may outlive one ``asyncio.run``)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()

    def get(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._lock = loop, asyncio.Lock()
        return self._lock


@dataclass
class BucketStats:
    """What a bucket did, for tests, the benchmark and logs."""

    taken: float = 0.0
    waits: int = 0
    waited: float = 0.0
    penalties: int = 0


class TokenBucket:
    """A token bucket in this process: ``rate`` tokens a second, ``capacity`` at most.

    Reservation-based: the theoretical arrival time ``_tat`` is when the bucket would be full
    again; a take of ``cost`` books the slot at which the bucket, after it, holds no debt.
    """

    def __init__(self, name: str, rate: float, capacity: float, *, time: TimeSource | None = None) -> None:
        self.name = name
        self.capacity = max(1.0, capacity)
        self.rate = rate
        self.time = time or TimeSource()
        self._interval = 0.0 if math.isinf(rate) or rate <= 0 else 1.0 / rate
        self._tat = -math.inf
        self._paused_until = -math.inf
        self._lock = _LoopLock()
        self.stats = BucketStats()

    @classmethod
    def of(cls, name: str, limit: Limit, *, time: TimeSource | None = None) -> TokenBucket:
        """The bucket for a documented limit."""
        return cls(name, limit.rate, limit.capacity, time=time)

    def available(self) -> float:
        """Tokens there now (negative: debt)."""
        now = self.time.clock()
        if now < self._paused_until:
            return 0.0
        if self._interval == 0:
            return self.capacity
        return self.capacity - max(0.0, self._tat - now) / self._interval

    async def take(self, cost: float = 1.0) -> float:
        """Wait for ``cost`` tokens (FIFO among concurrent takers); returns the seconds waited."""
        clock = self.time.clock
        self.stats.taken += cost
        if self._interval == 0 and clock() >= self._paused_until:
            return 0.0
        async with self._lock.get():
            now = clock()
            base = self._tat
            self._tat = max(base, now) + cost * self._interval
            target = max(now, self._tat - self.capacity * self._interval, self._paused_until)
            waited = 0.0
            while target > now:
                await self.time.sleep(target - now)
                waited += target - now
                now = max(clock(), target)
                target = max(target, self._paused_until)  # a 429 while this one slept
            # Count the take when it really happened: after a stall the slots that passed are not
            # spent all at once (a late sender would otherwise be followed by a burst).
            self._tat = max(self._tat, max(base, now) + cost * self._interval)
            if waited:
                self.stats.waits += 1
                self.stats.waited += waited
            return waited

    def penalise(self, retry_after: float) -> None:
        """Pause for ``retry_after`` real seconds; afterwards the bucket starts empty."""
        until = self.time.clock() + self.time.from_real(max(0.0, retry_after))
        self._paused_until = max(self._paused_until, until)
        self._tat = max(self._tat, until + (self.capacity - 1.0) * self._interval)
        self.stats.penalties += 1

    def debit(self, cost: float) -> None:
        """Take ``cost`` tokens now without waiting; later takers wait for the debt."""
        self._tat = max(self._tat, self.time.clock()) + cost * self._interval
        self.stats.taken += cost


class SharedBucket:
    """A token bucket kept in the state store, shared by every process using it.

    Tokens are taken from the ``budgets`` row in batches of about half a second's worth, up to a
    second ahead of time (the row goes into debt and the batch is used once the debt is paid off,
    so the round trip is not in the critical path), and spent locally; unspent ones lapse after
    the time it took to earn them, so a process holding a batch adds at most one batch to what the
    vendor sees. A pause (429) is written to the row as an ``updated_at`` in the future with no
    tokens, which every process reads on its next round trip.
    """

    def __init__(self, name: str, rate: float, capacity: float, table: BudgetTable, *,
                 time: TimeSource | None = None, batch: int | None = None, offload: bool = True) -> None:
        self.name = name
        self.capacity = max(1.0, capacity)
        self.rate = rate
        self.time = time or TimeSource()
        self.batch = batch or int(max(1, min(MAX_BATCH, self.capacity, math.floor(rate * BATCH_SECONDS))))
        self.advance = 0.0 if math.isinf(rate) else rate * AHEAD_SECONDS  # tokens taken ahead of time
        self._table = table
        self._offload = offload
        self._local = 0.0
        self._local_from = -math.inf  # the held batch may be spent from then (its debt is paid off)
        self._local_until = -math.inf  # and lapses then
        self._paused_until = -math.inf
        self._next_ask = -math.inf  # before this the row cannot grant a batch: asking would be a wasted trip
        self._lock = _LoopLock()
        self._pending: set[asyncio.Future[None]] = set()
        # This process's own sends keep the pace on the times they really happen, whatever the store
        # granted ahead: a stalled process does not catch up in a burst.
        self._gate = TokenBucket(name, rate, self.capacity, time=self.time)
        self.stats = BucketStats()
        self.round_trips = 0
        table.ensure(name, self.capacity, self.time.wall())

    async def _db(self, want: float, now: float) -> tuple[bool, float, float]:
        self.round_trips += 1
        args = (self.name, want, now, self.rate, self.capacity, self.advance)
        if self._offload:
            return await asyncio.to_thread(self._table.take, *args)
        return self._table.take(*args)

    async def take(self, cost: float = 1.0) -> float:
        """Wait until ``cost`` tokens are held here (taking a batch from the store when needed)."""
        self.stats.taken += cost
        if math.isinf(self.rate) and self.time.wall() >= self._paused_until:
            return 0.0
        waited = 0.0
        async with self._lock.get():
            while True:
                now = self.time.wall()
                pause = self._paused_until - now
                if pause <= 0 and self._local >= cost and now <= self._local_until:
                    pause = self._local_from - now
                    if pause <= 0:
                        self._local -= cost
                        waited += await self._gate.take(cost)
                        break
                if pause <= 0:
                    pause = self._next_ask - now
                if pause <= 0:
                    pause = await self._ask(cost, now)
                if pause > 0:
                    await self.time.sleep(pause)
                    waited += pause
        if waited:
            self.stats.waits += 1
            self.stats.waited += waited
        return waited

    async def _ask(self, cost: float, now: float) -> float:
        """One round trip for a batch; returns how long to wait before asking again (0: a batch is held)."""
        want = min(max(cost, float(self.batch)), max(cost, self.capacity))
        granted, tokens, updated_at = await self._db(want, now)
        ahead = max(0.0, updated_at - now)  # a pause written by another process
        if granted:
            ready = now + ahead + max(0.0, -tokens) / self.rate
            kept = self._local if now <= self._local_until else 0.0
            self._local, self._local_from = kept + want, ready
            self._local_until = ready + max(1.0, want) / self.rate
        level = tokens + max(0.0, now - updated_at) * self.rate
        # When the row may grant the next batch (a hair later, so rounding does not cost a trip).
        self._next_ask = now + (ahead + max(0.0, want - self.advance - level) / self.rate) * 1.001 + 0.0005
        return 0.0 if granted else self._next_ask - now

    def penalise(self, retry_after: float) -> None:
        """Pause here at once, and in the store for every other process (written off the loop)."""
        until = self.time.wall() + self.time.from_real(max(0.0, retry_after))
        self._paused_until = max(self._paused_until, until)
        self._next_ask = max(self._next_ask, until)
        self._local = 0.0
        self._gate.penalise(retry_after)
        self.stats.penalties += 1
        self._write(lambda: self._table.pause(self.name, until))

    def debit(self, cost: float) -> None:
        """Take ``cost`` more tokens from the store without waiting."""
        self.stats.taken += cost
        spent = min(self._local, cost)
        self._local -= spent
        if cost > spent:
            now = self.time.wall()
            self._write(lambda: self._table.debit(self.name, cost - spent, now, self.rate, self.capacity))

    def _write(self, work: Callable[[], None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            work()
            return
        if not self._offload:
            work()
            return
        future = loop.run_in_executor(None, work)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
