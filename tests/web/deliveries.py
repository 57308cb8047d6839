"""Signed deliveries for every receiver, built with the production signers, and an app per store backend."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from frontline.store.inbox import Inbox
from frontline.store.state import StateStore
from frontline.web.app import WebApp
from frontline.web.signatures import sign_intercom, sign_slack, sign_zendesk, zendesk_timestamp
from tests.helpers import run
from tests.postgres import fresh_schema, needs_postgres
from tests.web.conftest import SECRETS, web_app

ROUTES = {"intercom": "/webhooks/intercom", "zendesk": "/webhooks/zendesk", "slack": "/webhooks/slack",
          "tickets": "/tickets"}


def intercom_body(delivery: Any = "notif_1", conversation: Any = "215",
                  topic: str = "conversation.user.replied") -> bytes:
    """An Intercom notification (its shape from Intercom's webhook models)."""
    return json.dumps({"type": "notification_event", "app_id": "abc123", "id": delivery, "topic": topic,
                       "data": {"type": "notification_event_data",
                                "item": {"type": "conversation", "id": conversation}}}).encode()


def zendesk_body(ticket: Any = "4821", updated_at: Any = "2026-11-20T10:00:00Z") -> bytes:
    """The JSON body frontline documents for a Zendesk trigger."""
    return json.dumps({"ticket_id": ticket, "updated_at": updated_at}).encode()


def slack_body(trigger: Any = "13345224609.738474920.8088930838d88f008e0", conversation: Any = "215",
               user: Any = "U0CA5") -> bytes:
    """A block_actions interaction pressing frontline's "Mark resolved" button, form-encoded."""
    payload = {"type": "block_actions", "trigger_id": trigger, "user": {"id": user},
               "actions": [{"type": "button", "action_id": "frontline:resolve", "value": conversation,
                            "action_ts": "1548426417.840180"}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def headers_for(source: str, body: bytes, *, invocation: str | None = None, stamp: str | None = None
                ) -> dict[str, str]:
    """The headers the vendor would send with ``body``, signed with the production signer."""
    if source == "intercom":
        return {"content-type": "application/json", "x-hub-signature": sign_intercom(SECRETS["INTERCOM_CLIENT_SECRET"],
                                                                                     body)}
    if source == "zendesk":
        stamp = stamp or zendesk_timestamp()
        headers = {"content-type": "application/json", "x-zendesk-webhook-id": "01F1KRFQ6BG29CNWFR60NK5FNY",
                   "x-zendesk-webhook-signature-timestamp": stamp,
                   "x-zendesk-webhook-signature": sign_zendesk(SECRETS["ZENDESK_WEBHOOK_SECRET"], stamp, body)}
        if invocation is not None:
            headers["x-zendesk-webhook-invocation-id"] = invocation
        return headers
    if source == "slack":
        stamp = stamp or str(int(time.time()))
        return {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": stamp,
                "x-slack-signature": sign_slack(SECRETS["SLACK_SIGNING_SECRET"], stamp, body)}
    return {"content-type": "application/json", "authorization": f"Bearer {SECRETS['FRONTLINE_API_KEY']}"}


async def post_all(app: WebApp, requests: list[tuple[str, bytes, dict[str, str]]]) -> list[httpx.Response]:
    """Send every (source, body, headers) at once, as concurrent vendors would."""
    import asyncio

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://frontline") as client:
        return list(await asyncio.gather(*(client.post(ROUTES[source], content=body, headers=headers)
                                           for source, body, headers in requests)))


MAX_BODY = 100_000  # room for the property tests' long strings


def app_on(workspace: Path, database_url: str | None = None) -> WebApp:
    """The app with every secret set, on the workspace's SQLite store or on ``database_url``."""
    app = web_app(workspace, max_body=MAX_BODY)
    if database_url is None:
        return app
    run(app.aclose())
    app.store.close()
    settings = app.settings.model_copy(update={"database_url": database_url})
    return WebApp(settings, Inbox(StateStore.open(database_url).engine))


@contextlib.contextmanager
def serving(workspace: Path, database_url: str | None = None) -> Iterator[WebApp]:
    """:func:`app_on`, closed on exit."""
    app = app_on(workspace, database_url)
    try:
        yield app
    finally:
        run(app.aclose())
        app.store.close()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=needs_postgres)]


@contextlib.contextmanager
def backend_app(backend: str, workspace: Path) -> Iterator[WebApp]:
    """The app on ``backend`` ("sqlite", or "postgresql" on a fresh schema of the test server)."""
    with contextlib.ExitStack() as stack:
        url = None if backend == "sqlite" else stack.enter_context(fresh_schema())
        yield stack.enter_context(serving(workspace, url))
