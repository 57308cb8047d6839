"""Background work of `frontline serve`: process the inbox, and keep polling as the safety net.

Inbox entries are leased per flow and settled one by one (done, or failed to come back later):

- ``escalate`` (Intercom): the conversation is read again from the source (a notification's copy
  may be stale or partial) and handed to the same ``EscalateRun.handle`` the poller uses, so the
  ledger and the per-conversation claim make a webhook and a poll that race escalate it once;
- ``triage`` (Zendesk, ``POST /tickets``): the ticket is read again from the helpdesk with ``get``
  and handed to ``TriageRun.handle``, which skips tickets already handled, so a ticket is triaged
  once however many deliveries name it. In this process the poller's triage and the inbox's never
  run at the same time (one lock), so they cannot both alert about a new ticket;
- ``feedback`` (Slack buttons and menus): a person's correction is recorded as a decision of the
  ``feedback`` flow (classifier ``human:slack:<user>``), next to the decision it corrects.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from frontline.errors import FrontlineError, NotFoundError
from frontline.flows.escalate import EscalateRun, EscalateServices
from frontline.flows.triage import TriageRun, TriageServices
from frontline.model import Ticket
from frontline.runtime import owners
from frontline.store.inbox import Delivery, Inbox
from frontline.store.state import Decision, StateStore
from frontline.web.metrics import rate_limits

if TYPE_CHECKING:
    from frontline.web.app import WebApp

log = logging.getLogger("frontline.worker")
IDLE_SECONDS = 2.0
CLOSED = ("solved", "closed")
Processor = Callable[[list[Delivery]], Awaitable[None]]


async def process_deliveries(services: EscalateServices, inbox: Inbox, deliveries: list[Delivery]) -> None:
    """Handle leased deliveries: read each conversation again, escalate it if it should be, settle the entry."""
    run = EscalateRun(services)
    for delivery in deliveries:
        try:
            conversation = await services.conversations.get(delivery.item_id)
        except NotFoundError:
            await asyncio.to_thread(inbox.done, delivery.id)  # deleted since: nothing to do
            continue
        except Exception as error:
            await asyncio.to_thread(inbox.failed, delivery.id, _describe(error), retry_in=_backoff(delivery))
            continue
        before = len(run.summary.failures)
        try:
            await run.handle([conversation])
        except Exception as error:
            log.exception("delivery %s for conversation %s failed", delivery.id, delivery.item_id)
            await asyncio.to_thread(inbox.failed, delivery.id, _describe(error), retry_in=_backoff(delivery))
            continue
        if len(run.summary.failures) > before:
            reason = run.summary.failures[-1][1]
            await asyncio.to_thread(inbox.failed, delivery.id, reason, retry_in=_backoff(delivery))
        else:
            await asyncio.to_thread(inbox.done, delivery.id)


async def process_triage(services: TriageServices, inbox: Inbox, deliveries: list[Delivery],
                         lock: asyncio.Lock | None = None) -> None:
    """Read each delivery's ticket again, triage the batch once (handled tickets are skipped), settle each."""
    tickets: dict[str, Ticket] = {}
    waiting: list[Delivery] = []
    for delivery in deliveries:
        if delivery.item_id not in tickets:
            try:
                ticket = await services.helpdesk.get(delivery.item_id)
            except NotFoundError:
                await asyncio.to_thread(inbox.done, delivery.id)  # deleted since, or never here
                continue
            except Exception as error:
                await asyncio.to_thread(inbox.failed, delivery.id, _describe(error), retry_in=_backoff(delivery))
                continue
            if ticket.status in CLOSED:  # solved before we got to it: nobody needs an alert now
                await asyncio.to_thread(inbox.done, delivery.id)
                continue
            tickets[ticket.id] = ticket
        waiting.append(delivery)
    if not waiting:
        return
    run = TriageRun(services)
    try:
        async with lock or contextlib.nullcontext():
            await run.handle(list(tickets.values()))
    except Exception as error:
        log.exception("triage of %d webhook tickets failed", len(tickets))
        for delivery in waiting:
            await asyncio.to_thread(inbox.failed, delivery.id, _describe(error), retry_in=_backoff(delivery))
        return
    handled = await asyncio.to_thread(services.store.handled_among, run.flow, list(tickets))
    reasons = dict(run.summary.failures)
    for delivery in waiting:
        if delivery.item_id in handled:
            await asyncio.to_thread(inbox.done, delivery.id)
        else:
            reason = reasons.get(delivery.item_id, "triage did not complete")
            await asyncio.to_thread(inbox.failed, delivery.id, reason, retry_in=_backoff(delivery))


async def process_feedback(store: StateStore, inbox: Inbox, deliveries: list[Delivery]) -> None:
    """Record each person's correction as a ``feedback`` decision, then settle the entries."""
    decisions = [_feedback_decision(d) for d in deliveries]
    await asyncio.to_thread(store.complete, decisions)
    for delivery in deliveries:
        await asyncio.to_thread(inbox.done, delivery.id)


def _feedback_decision(delivery: Delivery) -> Decision:
    payload: dict[str, Any] = delivery.payload if isinstance(delivery.payload, dict) else {}
    kind = str(payload.get("kind") or "unknown")
    user = str(payload.get("user") or "unknown")
    return Decision(
        flow="feedback", item_id=delivery.item_id, version=str(payload.get("action_ts") or delivery.delivery)[:100],
        inputs_hash=hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest(),
        classifier=f"human:{delivery.source}:{user}"[:60], confidence=1.0,
        category=payload.get("category") if kind == "correct_category" else None, severity=None,
        fields={"kind": kind, "user": user, "source": delivery.source, "delivery": delivery.delivery,
                "corrects": "triage" if kind == "correct_category" else "escalate"},
    )


def _backoff(delivery: Delivery) -> float:
    return float(min(30 * 2 ** max(delivery.attempts - 1, 0), 3600))


def _describe(error: BaseException) -> str:
    return str(error) if isinstance(error, FrontlineError) else f"{type(error).__name__}: {error}"


async def inbox_loop(app: WebApp, processors: dict[str, Processor], *, owner: str) -> None:
    """Lease and process each flow's deliveries until cancelled; sleeps until woken or a tick passes.

    A failure of one round is logged and the loop goes on: a dead worker would leave every
    delivery waiting in the inbox with nobody to say why.
    """
    while True:
        try:
            await _inbox_round(app, processors, owner=owner)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the inbox worker's round failed; the next one runs in %ss", IDLE_SECONDS)
            await asyncio.sleep(IDLE_SECONDS)


async def _inbox_round(app: WebApp, processors: dict[str, Processor], *, owner: str) -> None:
    inbox = app.inbox
    while True:
        busy = False
        for flow, process in processors.items():
            deliveries = await asyncio.to_thread(inbox.lease, owner, flow=flow, dead=owners.gone)
            if deliveries:
                busy = True
                await process(deliveries)
        if busy:
            continue
        app.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(app.wake.wait(), IDLE_SECONDS)


async def poll_loop(app: WebApp, minutes: float, triage_lock: asyncio.Lock | None = None) -> None:
    """Run every flow for every team on the poll interval (the safety net for missed deliveries)."""
    while True:
        await poll_once(app, triage_lock)
        await asyncio.sleep(minutes * 60)


async def poll_once(app: WebApp, triage_lock: asyncio.Lock | None = None) -> None:
    """One poll cycle: every flow for every team; each item that failed (or was listed unreadable) is logged."""
    from frontline.app import escalate_services, triage_services
    from frontline.flows.escalate import run_escalate
    from frontline.flows.triage import run_triage

    for name in app.settings.team_names:
        settings = app.settings.for_team(name)
        for flow in ("triage", "escalate"):
            failures: list[tuple[str, str]] = []
            try:
                if flow == "triage":
                    async with triage_services(settings, echo=lambda line: None) as triage:
                        try:
                            async with triage_lock or contextlib.nullcontext():
                                failures = (await run_triage(triage)).failures
                        finally:
                            app.rate_limited_closed.update(rate_limits([triage]))
                else:
                    async with escalate_services(settings, echo=lambda line: None) as escalate:
                        try:
                            failures = (await run_escalate(escalate)).failures
                        finally:
                            app.rate_limited_closed.update(rate_limits([escalate]))
            except Exception:  # a failing cycle is logged; the next one runs as planned
                log.exception("%s poll for team %s failed", flow, name)
            # Nobody reads a poll's summary: each failed item goes to the log and the metrics instead.
            for item, reason in failures:
                log.warning("%s poll for team %s: %s failed: %s", flow, name, item, reason)
            app.metrics.poll_failed(flow, len(failures))


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
    triage_lock = asyncio.Lock()
    async with contextlib.AsyncExitStack() as stack:
        try:
            processors = await _load(app, stack, triage_lock)
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
        tasks.append(asyncio.create_task(inbox_loop(app, processors, owner=owner), name="inbox"))
        if settings.server.poll:
            tasks.append(asyncio.create_task(poll_loop(app, settings.runner.poll_interval_minutes, triage_lock),
                                             name="poll"))
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


async def _load(app: WebApp, stack: contextlib.AsyncExitStack, triage_lock: asyncio.Lock) -> dict[str, Processor]:
    """Open the flows' services on ``stack``: the processor of each flow the worker can handle."""
    from frontline.app import escalate_services, triage_services

    escalate = await stack.enter_async_context(escalate_services(app.settings, echo=lambda line: None))
    processors: dict[str, Processor] = {
        "escalate": lambda batch: process_deliveries(escalate, app.inbox, batch),
        "feedback": lambda batch: process_feedback(app.store, app.inbox, batch),
    }
    app.services.append(escalate)
    try:
        triage = await stack.enter_async_context(triage_services(app.settings, echo=lambda line: None))
    except FrontlineError as error:  # e.g. an LLM classifier without its key: webhooks still record
        log.warning("triage deliveries wait in the inbox: %s", error)
    else:
        processors["triage"] = lambda batch: process_triage(triage, app.inbox, batch, triage_lock)
        app.services.append(triage)
    return processors
