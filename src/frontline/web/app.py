"""The ASGI application: webhook receivers that verify, record and answer fast; tickets; health; metrics.

A delivery is handled in this order: size limit, signature (and its timestamp) on the raw body,
then parsing, then a durable record in the inbox, then the answer. The work itself happens in the
background (:mod:`frontline.web.worker`), so the vendor gets its answer in milliseconds and a
crash after the answer loses nothing: the inbox still holds the delivery. The routes themselves
are in :mod:`frontline.web.receivers`; this module is the framework-free core around them.

| route | who calls it | authenticated by |
|---|---|---|
| ``POST /webhooks/intercom`` | Intercom notifications | ``X-Hub-Signature`` (HMAC-SHA1), ``INTERCOM_CLIENT_SECRET`` |
| ``POST /webhooks/zendesk`` | a Zendesk trigger | ``X-Zendesk-Webhook-Signature``, ``ZENDESK_WEBHOOK_SECRET`` |
| ``POST /webhooks/slack`` | Slack interactivity | ``X-Slack-Signature`` (v0), ``SLACK_SIGNING_SECRET`` |
| ``POST /tickets`` | anything feeding the embedded helpdesk | ``Authorization: Bearer``, ``FRONTLINE_API_KEY`` |
| ``GET /healthz``, ``GET /metrics`` | probes, Prometheus | none (serve listens on loopback by default) |
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from frontline.config import Settings
from frontline.store.inbox import Inbox
from frontline.store.state import StateStore
from frontline.web import receivers
from frontline.web.metrics import WebMetrics, rate_limits
from frontline.web.recorder import InboxRecorder
from frontline.web.responses import Receive, Response, Scope, Send

if TYPE_CHECKING:
    from frontline.connectors.local.helpdesk import LocalHelpdesk

log = logging.getLogger("frontline.web")

Handler = Callable[[dict[str, str], bytes], Awaitable[Response]]


class TooLarge(Exception):
    """The body is over the configured limit."""


class WebApp:
    """Routes HTTP requests; ``wake`` is set whenever a new delivery is recorded."""

    def __init__(self, settings: Settings, inbox: Inbox, *, lifespan: Any = None) -> None:
        self.settings = settings
        self.inbox = inbox
        self.store = StateStore(inbox.engine)
        self.recorder = InboxRecorder(inbox)
        self.wake = asyncio.Event()
        self.max_body = settings.server.max_body_bytes
        self._lifespan = lifespan
        # "starting" while the background worker loads the flows' services (deliveries are recorded
        # meanwhile), "ok" once it runs, "failed" if it could not start; /healthz tells which.
        self.status = "ok"
        # Services the background worker keeps open (their vendor clients' 429 counts are live),
        # and the counts of those already closed (a poll cycle's).
        self.services: list[Any] = []
        self.rate_limited_closed: Counter[str] = Counter()
        self.metrics = WebMetrics(self.store, self.rate_limited)
        self._helpdesk: LocalHelpdesk | None = None
        self.helpdesk_lock = threading.Lock()
        self.routes: dict[tuple[str, str], Handler] = {
            ("POST", "/webhooks/intercom"): partial(receivers.intercom, self),
            ("POST", "/webhooks/zendesk"): partial(receivers.zendesk, self),
            ("POST", "/webhooks/slack"): partial(receivers.slack, self),
            ("POST", "/tickets"): partial(receivers.tickets, self),
            ("GET", "/healthz"): partial(receivers.health, self),
            ("GET", "/metrics"): partial(receivers.metrics, self),
        }
        self._paths = {path for _, path in self.routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] == "lifespan":
            await self._lifespan_events(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        path = scope["path"]
        response = await self._respond(scope, receive)
        await response.send(send)
        self.metrics.observe(path if path in self._paths else "unmatched", response.status,
                             time.perf_counter() - started)

    async def _respond(self, scope: Scope, receive: Receive) -> Response:
        handler = self.routes.get((scope["method"], scope["path"]))
        if handler is None:
            known = scope["path"] in self._paths
            return Response(405 if known else 404, {"error": "method not allowed" if known else "not found"})
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            body = await self._body(receive, headers)
        except TooLarge:
            return Response(413, {"error": "body too large"})
        try:
            return await handler(headers, body)
        except Exception:  # never a traceback to the caller; the log has it
            log.exception("%s %s failed", scope["method"], scope["path"])
            return Response(500, {"error": "internal error"})

    async def _body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise TooLarge
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _lifespan_events(self, receive: Receive, send: Send) -> None:
        context = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self._lifespan is not None:
                    context = self._lifespan(self)
                    await context.__aenter__()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if context is not None:
                    await context.__aexit__(None, None, None)
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- shared by the receivers -----------------------------------------------------------------------
    async def record(self, source: str, delivery: str, flow: str, item_id: str, payload: Any = None) -> bool:
        """Record a delivery durably (a batch committed by the recorder thread); False for a redelivery."""
        try:
            added = await self.recorder.add(source, delivery, flow, item_id, payload)
        except Exception:  # answered 500 and retried by the vendor, but never uncounted
            self.metrics.delivery(source, "record_failed")
            raise
        if added:
            self.wake.set()
        self.metrics.delivery(source, "recorded" if added else "duplicate")
        return added

    def local_helpdesk(self) -> LocalHelpdesk:
        """The embedded helpdesk ``POST /tickets`` writes to, opened on first use (hold ``helpdesk_lock``)."""
        if self._helpdesk is None:
            from frontline.connectors.local.helpdesk import LocalHelpdesk

            self._helpdesk = LocalHelpdesk.from_settings(self.settings)
        return self._helpdesk

    def rate_limited(self) -> Counter[str]:
        """429s seen by this process's vendor clients, open and closed."""
        return rate_limits(self.services) + self.rate_limited_closed

    async def aclose(self) -> None:
        """Stop the recorder thread; close the embedded helpdesk file if ``POST /tickets`` opened it."""
        await asyncio.to_thread(self.recorder.close)
        helpdesk, self._helpdesk = self._helpdesk, None
        if helpdesk is not None:
            await helpdesk.aclose()
