"""Fixtures for the web tests: an app with every secret set, and a client that talks ASGI to it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontline.store.inbox import Inbox
from frontline.store.state import StateStore
from frontline.web.app import WebApp
from tests.helpers import make_settings, run

SECRETS = {
    "INTERCOM_CLIENT_SECRET": "intercom-client-secret",
    "ZENDESK_WEBHOOK_SECRET": "zendesk-signing-secret",
    "SLACK_SIGNING_SECRET": "slack-signing-secret",
    "FRONTLINE_API_KEY": "frontline-api-key",
}


def web_app(workspace: Path, toml: str = "", env: Mapping[str, str] = SECRETS, max_body: int = 4000) -> WebApp:
    """A WebApp on the workspace's store (rules classifier, small body limit); ``toml`` goes under [server]."""
    settings = make_settings(workspace, f'[classifier]\nkind = "rules"\n[server]\nmax_body_bytes = {max_body}\n'
                             + toml)
    settings = settings.model_copy(update={"env": dict(env)})
    return WebApp(settings, Inbox(StateStore.open(settings.state_url).engine))


@pytest.fixture
def web(workspace: Path) -> Iterator[WebApp]:
    """The app with every secret configured."""
    app = web_app(workspace)
    yield app
    run(app.aclose())
    app.store.close()


def call(app: WebApp, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
         ) -> httpx.Response:
    """One request through the ASGI interface."""

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://frontline") as client:
            return await client.request(method, path, content=body, headers=dict(headers or {}))

    return run(go())


def recorded(app: WebApp, source: str | None = None) -> list[Any]:
    """Every inbox entry (done or not), as (source, flow, item_id, payload) rows."""
    from sqlalchemy import select

    from frontline.store.schema import inbox

    with app.inbox.engine.connect() as conn:
        rows = conn.execute(select(inbox.c.source, inbox.c.flow, inbox.c.item_id, inbox.c.payload)
                            .order_by(inbox.c.id)).all()
    return [tuple(r) for r in rows if source is None or r[0] == source]
