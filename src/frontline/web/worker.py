"""Background work of `frontline serve`: process the inbox, and keep polling as the safety net.

Inbox entries are leased per flow and handed to the engine's inbox consumer
(:mod:`frontline.engine.consumer`), the one `frontline worker` uses too: each entry's item is read
again from its source (a notification's copy may be stale or partial), claimed, handled by its flow
(``Flow.handle``: the same code a poll pass runs, so the ledger and the claims make a webhook and a
poll that race act once) and its entry settled. Every registered flow is served: each webhook
source's deliveries are recorded for the flow that declares it (``Flow.webhooks``; the built-ins:
Zendesk and ``POST /tickets`` for triage, Intercom for escalate, Slack's buttons and menus for
feedback).

This module keeps only what is particular to ``serve``: the worker's own thread and event loop,
the wake-up call from the web loop, and the poll loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from frontline.engine.consumer import Consumer
from frontline.engine.fetcher import Lane
from frontline.engine.services import open_flow
from frontline.errors import FrontlineError
from frontline.flows import registry
from frontline.runtime import owners
from frontline.web.metrics import rate_limits

if TYPE_CHECKING:
    from frontline.web.app import WebApp

log = logging.getLogger("frontline.worker")
IDLE_SECONDS = 2.0


async def inbox_loop(app: WebApp, lanes: list[Lane], *, owner: str) -> None:
    """Lease and process each flow's deliveries until cancelled; sleeps until woken or a tick passes.

    A failure of one round is logged and the loop goes on: a dead worker would leave every
    delivery waiting in the inbox with nobody to say why.
    """
    consumer = Consumer(app.store, app.inbox, owner)
    while True:
        try:
            await _inbox_round(app, consumer, lanes)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the inbox worker's round failed; the next one runs in %ss", IDLE_SECONDS)
            await asyncio.sleep(IDLE_SECONDS)


async def _inbox_round(app: WebApp, consumer: Consumer, lanes: list[Lane]) -> None:
    inbox = app.inbox
    while True:
        busy = False
        for lane in lanes:
            deliveries = await asyncio.to_thread(inbox.lease, consumer.owner, flow=lane.flow, dead=owners.gone)
            if deliveries:
                busy = True
                consumer.settled = set()
                await consumer.process(lane, deliveries)
        if busy:
            continue
        app.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(app.wake.wait(), IDLE_SECONDS)


async def poll_loop(app: WebApp, minutes: float) -> None:
    """Run every flow for every team on the poll interval (the safety net for missed deliveries)."""
    while True:
        await poll_once(app)
        await asyncio.sleep(minutes * 60)


async def poll_once(app: WebApp) -> None:
    """One poll cycle: every flow for every team; each item that failed (or was listed unreadable) is logged."""
    for name in app.settings.team_names:
        settings = app.settings.for_team(name)
        for unit in registry.flows():
            if not (unit.lists and unit.default):
                continue
            failures: list[tuple[str, str]] = []
            try:
                async with open_flow(unit, settings, echo=lambda line: None) as services:
                    try:
                        failures = (await unit.start(services).run()).failures
                    finally:
                        app.rate_limited_closed.update(rate_limits([services]))
            except Exception:  # a failing cycle is logged; the next one runs as planned
                log.exception("%s poll for team %s failed", unit.name, name)
            # Nobody reads a poll's summary: each failed item goes to the log and the metrics instead.
            for item, reason in failures:
                log.warning("%s poll for team %s: %s failed: %s", unit.name, name, item, reason)
            app.metrics.poll_failed(unit.name, len(failures))


class Wakeup(asyncio.Event):
    """The worker's wake-up call: an event of the worker's loop that the web loop (any thread) may set."""

    def __init__(self, home: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.home = home

    def set(self) -> None:
        """Wake the worker, from its own loop or from any other thread."""
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is self.home:
            super().set()
            return
        with contextlib.suppress(RuntimeError):  # the worker's loop has closed: nobody to wake
            self.home.call_soon_threadsafe(super().set)


@contextlib.asynccontextmanager
async def background(app: WebApp, *, on_failure: Callable[[BaseException], None] | None = None
                     ) -> AsyncIterator[None]:
    """Load the flows' services, then run the inbox worker (and the poller, unless turned off); stop on shutdown.

    Returns at once, before the services are loaded: the server binds its port and records
    deliveries meanwhile (recording needs only the state store and the secrets), and ``/healthz``
    says "starting" until the worker runs. If the services cannot be loaded, ``on_failure`` hears why
    (``serve`` stops with that sentence); what was recorded waits in the inbox for the next start.

    The worker has a thread and an event loop of its own: loading models (seconds of imports and
    unpickling) and triaging a batch are synchronous work that would otherwise stall every answer.
    """
    started = threading.Event()
    loop: list[asyncio.AbstractEventLoop] = []
    task: list[asyncio.Task[None]] = []

    async def main() -> None:
        loop.append(asyncio.get_running_loop())
        task.append(asyncio.current_task())  # type: ignore[arg-type]
        app.wake = Wakeup(loop[0])
        started.set()
        await _work(app, on_failure)

    def work() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(main())

    app.status = "starting"
    thread = threading.Thread(target=work, name="frontline-worker", daemon=True)
    thread.start()
    await asyncio.to_thread(started.wait)
    try:
        yield
    finally:
        with contextlib.suppress(RuntimeError):  # its loop has already ended (the worker failed to start)
            loop[0].call_soon_threadsafe(task[0].cancel)
        await asyncio.to_thread(thread.join)


async def _work(app: WebApp, on_failure: Callable[[BaseException], None] | None) -> None:
    settings = app.settings
    # Names this process so that, once it is killed, the next one takes over its leases at once.
    owner = owners.this_process("serve")
    tasks: list[asyncio.Task[None]] = []
    async with contextlib.AsyncExitStack() as stack:
        try:
            lanes = await _load(app, stack)
        except Exception as error:
            if isinstance(error, FrontlineError):
                if on_failure is None:  # else the caller tells it, once
                    log.error("the worker cannot start: %s", error)
            else:
                log.exception("the worker cannot start")
            app.status = "failed"
            app.services.clear()
            if on_failure is not None:
                on_failure(error)
            return
        tasks.append(asyncio.create_task(inbox_loop(app, lanes, owner=owner), name="inbox"))
        if settings.server.poll:
            tasks.append(asyncio.create_task(poll_loop(app, settings.runner.poll_interval_minutes), name="poll"))
        app.status = "ok"
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            app.rate_limited_closed.update(rate_limits(app.services))
            app.services.clear()


async def _load(app: WebApp, stack: contextlib.AsyncExitStack) -> list[Lane]:
    """Open every registered flow's services on ``stack``: one lane per flow the worker serves.

    A flow that cannot be opened (a rejected token, an LLM classifier without its key) stops the
    worker with its sentence, as it stops `frontline worker`: what was recorded meanwhile waits in
    the inbox for the next start.
    """
    lanes: list[Lane] = []
    for unit in registry.flows():
        services = await stack.enter_async_context(open_flow(unit, app.settings, echo=lambda line: None))
        app.services.append(services)
        lanes.append(Lane(services.flow, unit, services))
    return lanes
