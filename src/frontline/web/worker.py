"""Background work of `frontline serve`: process the inbox, and keep polling as the safety net.

Webhook deliveries are leased from the inbox, the conversation is read again from the source
(a notification's copy may be stale or partial) and handed to the same ``EscalateRun.handle`` the
poller uses, so both paths share the escalation state: the ledger and the per-conversation claim
make a webhook and a poll that race on one conversation escalate it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from frontline.errors import FrontlineError, NotFoundError
from frontline.flows.escalate import EscalateRun, EscalateServices
from frontline.store.inbox import Delivery, Inbox

if TYPE_CHECKING:
    from frontline.web.app import WebApp

log = logging.getLogger("frontline.worker")
IDLE_SECONDS = 2.0


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


def _backoff(delivery: Delivery) -> float:
    return float(min(30 * 2 ** max(delivery.attempts - 1, 0), 3600))


def _describe(error: BaseException) -> str:
    return str(error) if isinstance(error, FrontlineError) else f"{type(error).__name__}: {error}"


async def inbox_loop(app: WebApp, services: EscalateServices, *, owner: str) -> None:
    """Lease and process deliveries until cancelled; sleeps until woken by a new delivery or a tick."""
    inbox = app.inbox
    while True:
        deliveries = await asyncio.to_thread(inbox.lease, owner, flow="escalate")
        if deliveries:
            await process_deliveries(services, inbox, deliveries)
            continue
        app.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(app.wake.wait(), IDLE_SECONDS)


async def poll_loop(app: WebApp, minutes: float) -> None:
    """Run every flow for every team on the poll interval (the safety net for missed deliveries)."""
    from frontline.app import escalate_services, triage_services
    from frontline.flows.escalate import run_escalate
    from frontline.flows.triage import run_triage

    while True:
        for name in app.settings.team_names:
            settings = app.settings.for_team(name)
            for flow in ("triage", "escalate"):
                try:
                    if flow == "triage":
                        async with triage_services(settings, echo=lambda line: None) as triage:
                            await run_triage(triage)
                    else:
                        async with escalate_services(settings, echo=lambda line: None) as escalate:
                            await run_escalate(escalate)
                except Exception:  # a failing cycle is logged; the next one runs as planned
                    log.exception("%s poll for team %s failed", flow, name)
        await asyncio.sleep(minutes * 60)


@contextlib.asynccontextmanager
async def background(app: WebApp) -> AsyncIterator[None]:
    """Start the inbox worker (and the poller, unless turned off); stop them on shutdown."""
    from frontline.app import escalate_services

    settings = app.settings
    owner = f"{os.uname().nodename}:{os.getpid()}"
    tasks: list[asyncio.Task[None]] = []
    async with escalate_services(settings, echo=lambda line: None) as services:
        tasks.append(asyncio.create_task(inbox_loop(app, services, owner=owner), name="inbox"))
        if settings.server.poll:
            tasks.append(asyncio.create_task(poll_loop(app, settings.runner.poll_interval_minutes), name="poll"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
