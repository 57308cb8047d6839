"""The background worker of `frontline serve`: triage deliveries triaged once, feedback recorded, failures retried."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.outbox import OutboxChat
from frontline.engine.consumer import Consumer
from frontline.engine.fetcher import Lane
from frontline.engine.services import open_flow
from frontline.errors import UnavailableError
from frontline.flows import registry
from frontline.web.app import WebApp
from frontline.web.signatures import sign_slack, sign_zendesk, zendesk_timestamp
from frontline.web.worker import background
from tests.helpers import run
from tests.web.conftest import SECRETS, web_app
from tests.web.test_slack import correct, interaction, resolve

AUTH = {"authorization": f"Bearer {SECRETS['FRONTLINE_API_KEY']}"}


@pytest.fixture
def app(workspace: Path) -> Iterator[WebApp]:
    """An app whose worker only processes the inbox (no poller)."""
    web = web_app(workspace, "poll = false\n")
    yield web
    run(web.aclose())
    web.store.close()


def ticket(ident: str, version: str = "2026-11-20T10:00:00Z") -> dict[str, Any]:
    return {"id": ident, "subject": "Charged twice this month",
            "description": "My invoice shows a double charge on the card, please refund.", "updated_at": version}


def zendesk(ticket_id: str, invocation: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"ticket_id": ticket_id}).encode()
    stamp = zendesk_timestamp()
    return body, {"x-zendesk-webhook-invocation-id": invocation, "x-zendesk-webhook-signature-timestamp": stamp,
                  "x-zendesk-webhook-signature": sign_zendesk(SECRETS["ZENDESK_WEBHOOK_SECRET"], stamp, body)}


async def drained(web: httpx.AsyncClient) -> None:
    """Wait until the inbox has nothing waiting (the worker settled everything)."""
    for _ in range(200):
        if (await web.get("/healthz")).json()["inbox"]["waiting"] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the inbox did not drain")


def serve(app: WebApp, *requests: tuple[str, bytes, dict[str, str]]) -> None:
    """Send the requests to the app with its background worker running, one batch at a time, draining after each."""

    async def go() -> None:
        async with background(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://frontline") as web:
            for path, body, headers in requests:
                answer = await web.post(path, content=body, headers=headers)
                assert answer.status_code < 300, answer.text
            await drained(web)

    run(go())


def notes(app: WebApp, ticket_id: str) -> list[dict[str, Any]]:
    return LocalHelpdesk.from_settings(app.settings).notes(ticket_id)


def alerts(app: WebApp) -> list[dict[str, Any]]:
    return OutboxChat(app.settings.path(app.settings.local.outbox)).entries()


def test_a_posted_ticket_is_triaged_promptly_and_an_update_does_not_triage_it_again(app: WebApp) -> None:
    serve(app, ("/tickets", json.dumps(ticket("T-1")).encode(), AUTH))
    assert len(notes(app, "T-1")) == 1 and len(alerts(app)) == 1
    assert app.store.handled_among("triage", ["T-1"]) == {"T-1"}
    serve(app, ("/tickets", json.dumps(ticket("T-1", "2026-11-21T09:00:00Z")).encode(), AUTH))
    assert len(notes(app, "T-1")) == 1 and len(alerts(app)) == 1
    assert app.inbox.depth() == {"waiting": 0, "dead": 0}


def test_zendesk_deliveries_naming_one_ticket_twice_triage_it_once(app: WebApp) -> None:
    LocalHelpdesk.from_settings(app.settings).upsert([ticket("35")])
    first, second = zendesk("35", "inv-1"), zendesk("35", "inv-2")
    serve(app, ("/webhooks/zendesk", *first), ("/webhooks/zendesk", *second))
    assert len(notes(app, "35")) == 1 and len(alerts(app)) == 1


def test_a_delivery_for_a_ticket_the_helpdesk_does_not_have_is_settled_without_retrying(app: WebApp) -> None:
    serve(app, ("/webhooks/zendesk", *zendesk("404", "inv-9")))
    assert app.inbox.depth() == {"waiting": 0, "dead": 0} and alerts(app) == []


def test_slack_feedback_is_recorded_as_a_human_decision(app: WebApp) -> None:
    secret = SECRETS["SLACK_SIGNING_SECRET"]
    requests = []
    for number, action in enumerate([resolve("215"), correct("4821", "billing")]):
        body = interaction(action, trigger=f"trigger-{number}")
        stamp = str(int(time.time()))
        requests.append(("/webhooks/slack", body, {"content-type": "application/x-www-form-urlencoded",
                                                   "x-slack-request-timestamp": stamp,
                                                   "x-slack-signature": sign_slack(secret, stamp, body)}))
    serve(app, *requests)
    resolved = app.store.item_state("215")["decisions"]
    corrected = app.store.item_state("4821")["decisions"]
    assert [(d["flow"], d["classifier"], d["category"]) for d in resolved] == [("feedback", "human:slack:U0CA5", None)]
    assert resolved[0]["fields"]["kind"] == "resolve_escalation"
    assert [(d["flow"], d["category"], d["fields"]["corrects"]) for d in corrected] == [
        ("feedback", "billing", "triage")]


class DownHelpdesk:
    """A helpdesk whose reads fail, as during an outage."""

    name = "down"

    async def get(self, ticket_id: str) -> Any:
        raise UnavailableError("Zendesk", "answered 503")


def test_a_helpdesk_outage_gives_the_delivery_back_for_later(app: WebApp) -> None:
    app.inbox.add("zendesk", "inv-1", "triage", "35")

    async def go() -> None:
        async with open_flow("triage", app.settings, store=app.store) as services:
            services.helpdesk = DownHelpdesk()  # type: ignore[assignment]
            lane = Lane(services.flow, registry.flow("triage"), services)
            await Consumer(app.store, app.inbox, "test").process(lane, app.inbox.lease("test", flow="triage"))

    run(go())
    assert app.inbox.depth() == {"waiting": 1, "dead": 0}
    assert app.inbox.lease("test", flow="triage") == []  # not due again before its back-off


def test_a_poll_cycle_logs_and_counts_each_item_it_did_not_handle(
        app: WebApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from frontline.flows import escalate, triage
    from frontline.web.worker import poll_once

    async def unreadable(self: Any) -> triage.RunSummary:
        return triage.RunSummary(failures=[("abc", "Zendesk listed a ticket whose id 'abc' is not a ticket number")])

    async def nothing(self: Any) -> escalate.EscalationSummary:
        return escalate.EscalationSummary()

    monkeypatch.setattr(triage.TriageRun, "run", unreadable)
    monkeypatch.setattr(escalate.EscalateRun, "run", nothing)
    run(poll_once(app))
    assert "triage poll for team default: abc failed: Zendesk listed a ticket whose id 'abc'" in caplog.text
    assert b'frontline_poll_failures_total{flow="triage"} 1.0' in app.metrics.render()
