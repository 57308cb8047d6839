"""Recording deliveries in the inbox from one thread, many per transaction (group commit).

Under load, one transaction per delivery from a pool of threads means the threads queue on the
database's write lock (SQLite has one writer; its busy handler sleeps while it waits), and the
answers wait with them. Here every delivery the app receives goes to one writer thread, which
takes whatever has queued up meanwhile and records it in one transaction: the more load, the bigger
the batches, the fewer the commits. A delivery is still answered only after its batch committed.

Duplicates are told apart before the insert (one SELECT over the batch's keys, plus the batch's own
repeats); if another process records the same key in between, the unique constraint refuses the
batch and it is recorded again one row at a time through :meth:`Inbox.add`, which settles each.

One delivery never costs another its record: an entry the store cannot hold (a lone surrogate, NUL,
a value over its column) is refused before the batch, alone, and any other failure of the batch's
rows falls back to one transaction per entry, so only the bad one fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError

from frontline.store.inbox import Entry, Inbox, unstorable
from frontline.store.schema import inbox as inbox_table

log = logging.getLogger("frontline.web")
MAX_BATCH = 500


Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[bool]"]


class InboxRecorder:
    """Records deliveries from a dedicated thread in batches; ``add`` resolves once committed."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._queue: queue.SimpleQueue[tuple[Entry, Waiter] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    async def add(self, source: str, delivery: str, flow: str, item_id: str, payload: Any = None) -> bool:
        """Record one delivery; False when this (source, delivery) was recorded before."""
        self._ensure_thread()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._queue.put((Entry(source, delivery, flow, item_id, payload), (loop, future)))
        return await future

    def close(self) -> None:
        """Stop the writer thread once it has recorded what is queued."""
        with self._start:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="inbox-recorder", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            entries = [entry for entry, _ in batch]
            try:
                results: list[bool | Exception] | Exception = self.record(entries)
            except Exception as error:  # the database is gone: each caller answers 500 and the vendor retries
                log.exception("recording %d deliveries failed", len(entries))
                results = error
            for number, (_, (loop, future)) in enumerate(batch):
                outcome = results if isinstance(results, Exception) else results[number]
                with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits any more
                    loop.call_soon_threadsafe(_settle, future, outcome)
            if stop:
                return

    def record(self, entries: list[Entry]) -> list[bool | Exception]:
        """Record a batch; for each entry, whether it was new, or the error that refused it alone.

        An entry the store cannot hold (:func:`~frontline.store.inbox.unstorable`) is refused before the
        batch. Should the batch still fail for a reason of its rows, each entry is recorded on its own,
        so one bad delivery never costs the others theirs; an error of the database itself (locked,
        unreachable) fails the batch, since it would fail each entry as well.
        """
        outcomes: list[bool | Exception | None] = [unstorable(entry) for entry in entries]
        storable = [entry for entry, outcome in zip(entries, outcomes, strict=True) if outcome is None]
        try:
            fresh: list[bool | Exception] = list(self._record_batch(storable)) if storable else []
        except OperationalError:
            raise
        except IntegrityError:  # another process recorded one of them meanwhile: settle each on its own
            fresh = [self._record_one(entry) for entry in storable]
        except Exception as error:
            log.warning("recording %d deliveries failed (%s): recording them one at a time", len(storable),
                        type(error).__name__)
            fresh = [self._record_one(entry) for entry in storable]
        results = iter(fresh)
        return [next(results) if outcome is None else outcome for outcome in outcomes]

    def _record_batch(self, entries: list[Entry]) -> list[bool]:
        """Record entries in one transaction; for each, whether it was new."""
        engine = self.inbox.engine
        by_source: dict[str, set[str]] = {}
        for e in entries:
            by_source.setdefault(e.source, set()).add(e.delivery)
        wanted = or_(*(and_(inbox_table.c.source == source, inbox_table.c.delivery.in_(sorted(deliveries)))
                       for source, deliveries in by_source.items()))
        with engine.connect() as conn:  # a read of its own: upgrading it to a write could fail on SQLite
            known = {(str(s), str(d)) for s, d in conn.execute(
                select(inbox_table.c.source, inbox_table.c.delivery).where(wanted))}
        fresh: list[bool] = []
        seen: set[tuple[str, str]] = set()
        for entry in entries:
            key = (entry.source, entry.delivery)
            fresh.append(key not in known and key not in seen)
            seen.add(key)
        rows = [entry for entry, new in zip(entries, fresh, strict=True) if new]
        if not rows:
            return fresh
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(insert(inbox_table), [
                {"source": e.source, "delivery": e.delivery, "flow": e.flow, "item_id": e.item_id,
                 "payload": e.payload, "received_at": now, "available_at": now, "attempts": 0} for e in rows])
        return fresh

    def _record_one(self, entry: Entry) -> bool | Exception:
        """Record one entry in its own transaction (a redelivery settles as False); the error if it fails."""
        try:
            return self.inbox.add(entry.source, entry.delivery, entry.flow, entry.item_id, entry.payload)
        except OperationalError:
            raise
        except Exception as error:
            log.exception("recording the %s delivery %r failed", entry.source, entry.delivery[:80])
            return error


def _settle(future: asyncio.Future[bool], outcome: bool | Exception) -> None:
    if future.done():  # the request was cancelled (client went away)
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
