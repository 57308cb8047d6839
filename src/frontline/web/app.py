"""The ASGI application: webhook receivers that verify, record and answer fast; health.

A delivery is handled in this order: size limit, signature on the raw body, then parsing, then a
durable record in the inbox, then the answer. The work itself happens in the background
(:mod:`frontline.web.worker`), so the vendor gets its answer in milliseconds and a crash after the
answer loses nothing: the inbox still holds the delivery.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from frontline.config import Settings
from frontline.store.inbox import Inbox
from frontline.web.signatures import verify_intercom

log = logging.getLogger("frontline.web")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Intercom topics that can change whether a conversation should escalate.
INTERCOM_TOPICS = {
    "conversation.user.created", "conversation.user.replied", "conversation.admin.replied",
    "conversation.admin.opened", "conversation.admin.closed", "conversation.admin.noted",
    "conversation.admin.snoozed", "conversation.admin.unsnoozed", "conversation.admin.assigned",
}


class TooLarge(Exception):
    """The body is over the configured limit."""


class Response:
    """A complete HTTP response."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.headers = {"content-type": "application/json", **(headers or {})}

    async def send(self, send: Send) -> None:
        """Write it to the ASGI channel."""
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(k.encode(), v.encode()) for k, v in
                                {**self.headers, "content-length": str(len(self.body))}.items()]})
        await send({"type": "http.response.body", "body": self.body})


UNAUTHORIZED = Response(401, {"error": "invalid signature"})


class WebApp:
    """Routes HTTP requests; ``wake`` is set whenever a new delivery is recorded."""

    def __init__(self, settings: Settings, inbox: Inbox, *, lifespan: Any = None) -> None:
        self.settings = settings
        self.inbox = inbox
        self.wake = asyncio.Event()
        self.max_body = settings.server.max_body_bytes
        self._lifespan = lifespan
        self.routes: dict[tuple[str, str], Callable[[dict[str, str], bytes], Awaitable[Response]]] = {
            ("POST", "/webhooks/intercom"): self.intercom,
            ("GET", "/healthz"): self.health,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] == "lifespan":
            await self._lifespan_events(receive, send)
            return
        if scope["type"] != "http":
            return
        handler = self.routes.get((scope["method"], scope["path"]))
        if handler is None:
            known = any(path == scope["path"] for _, path in self.routes)
            await Response(405 if known else 404, {"error": "method not allowed" if known else "not found"}).send(send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            body = await self._body(receive, headers)
        except TooLarge:
            await Response(413, {"error": "body too large"}).send(send)
            return
        try:
            response = await handler(headers, body)
        except Exception:  # never a traceback to the caller; the log has it
            log.exception("%s %s failed", scope["method"], scope["path"])
            response = Response(500, {"error": "internal error"})
        await response.send(send)

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
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- routes --------------------------------------------------------------------------------------
    async def health(self, headers: dict[str, str], body: bytes) -> Response:
        """Liveness plus the inbox depth."""
        depth = await asyncio.to_thread(self.inbox.depth)
        return Response(200, {"status": "ok", "inbox": depth})

    async def intercom(self, headers: dict[str, str], body: bytes) -> Response:
        """Intercom notifications: verify X-Hub-Signature, record conversation topics, answer."""
        secret = self.settings.secret("INTERCOM_CLIENT_SECRET")
        if not secret:
            log.warning("Intercom webhook refused: INTERCOM_CLIENT_SECRET is not set")
            return Response(503, {"error": "webhook not configured"})
        problem = verify_intercom(secret, headers, body)
        if problem is not None:
            log.warning("Intercom webhook refused: %s", problem)
            return UNAUTHORIZED
        try:
            payload = json.loads(body)
            topic = str(payload.get("topic") or "")
            item = (payload.get("data") or {}).get("item") or {}
        except (ValueError, AttributeError):
            return Response(400, {"error": "not a notification"})
        if topic == "ping" or topic not in INTERCOM_TOPICS:
            return Response(200, {"ignored": topic or "no topic"})
        conversation = item.get("id") if isinstance(item, dict) else None
        if not conversation:
            return Response(400, {"error": "notification without a conversation id"})
        delivery = str(payload.get("id") or hashlib.sha256(body).hexdigest())
        added = await asyncio.to_thread(self.inbox.add, "intercom", delivery, "escalate", str(conversation),
                                        {"topic": topic})
        if added:
            self.wake.set()
        return Response(200, {"received": delivery, "duplicate": not added})
