"""/metrics: Prometheus text that the official parser reads, with the store's counts read at scrape time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from frontline.connectors.http import VendorAPI
from frontline.model import Effect, EffectStatus
from frontline.runtime import retries
from frontline.store.state import Decision
from frontline.web.app import WebApp
from frontline.web.signatures import sign_zendesk, zendesk_timestamp
from tests.helpers import run
from tests.web.conftest import SECRETS, call, web_app


def samples(app: WebApp) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by (name, sorted labels)."""
    answer = call(app, "GET", "/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def deliver(app: WebApp, ticket: str, invocation: str, *, secret: str = SECRETS["ZENDESK_WEBHOOK_SECRET"],
            stamp: str | None = None) -> httpx.Response:
    body = json.dumps({"ticket_id": ticket}).encode()
    stamp = stamp or zendesk_timestamp()
    return call(app, "POST", "/webhooks/zendesk", body, {
        "x-zendesk-webhook-invocation-id": invocation, "x-zendesk-webhook-signature-timestamp": stamp,
        "x-zendesk-webhook-signature": sign_zendesk(secret, stamp, body)})


def test_deliveries_and_latency_are_counted_by_source_outcome_route_and_status(web: WebApp) -> None:
    # A duplicate is the same signed delivery: the same timestamp (signed) and body. Stamping each call
    # anew made the second a new delivery whenever the two fell on either side of a second.
    stamp = zendesk_timestamp()
    deliver(web, "1", "a", stamp=stamp)
    deliver(web, "1", "a", stamp=stamp)
    deliver(web, "2", "b", secret="wrong")
    found = samples(web)
    assert value(found, "frontline_webhook_deliveries_total", source="zendesk", outcome="recorded") == 1
    assert value(found, "frontline_webhook_deliveries_total", source="zendesk", outcome="duplicate") == 1
    assert value(found, "frontline_webhook_deliveries_total", source="zendesk", outcome="refused") == 1
    assert value(found, "frontline_webhook_request_duration_seconds_count", route="/webhooks/zendesk",
                 status="200") == 2
    assert value(found, "frontline_webhook_request_duration_seconds_count", route="/webhooks/zendesk",
                 status="401") == 1
    assert value(found, "frontline_webhook_request_duration_seconds_bucket", route="/webhooks/zendesk",
                 status="401", le="+Inf") == 1
    assert value(found, "frontline_inbox_depth", state="waiting") == 1
    assert value(found, "frontline_inbox_entries", source="zendesk", flow="triage", state="waiting") == 1


def test_unknown_paths_share_one_route_label(web: WebApp) -> None:
    call(web, "GET", "/wp-admin/a")
    call(web, "GET", "/wp-admin/b")
    found = samples(web)
    assert value(found, "frontline_webhook_request_duration_seconds_count", route="unmatched", status="404") == 2


def test_store_counts_are_read_at_scrape_time_so_every_process_agrees(workspace: Path, web: WebApp) -> None:
    store = web.store
    store.complete([Decision("triage", str(n), "v1", "h" * 64, "rules", 0.9, category, severity, {})
                    for n, (category, severity) in enumerate([("bug", "P1"), ("bug", "P1"), ("billing", "P3")])])
    store.plan([Effect(f"k{n}", "triage", str(n), "alert", "#engineering") for n in range(3)])
    store.finish([Effect("k0", "triage", "0", "alert", "#engineering", EffectStatus.DONE, "ts1")])
    for n in range(3):
        web.inbox.add("zendesk", f"d{n}", "triage", str(n))
    [dead] = web.inbox.lease("test", limit=1)
    from sqlalchemy import update

    from frontline.store.schema import inbox

    with web.inbox.engine.begin() as conn:  # an entry that used up its attempts
        conn.execute(update(inbox).where(inbox.c.id == dead.id).values(attempts=99, claimed_until=None))
    other = web_app(workspace)  # a second process on the same database
    for found in (samples(web), samples(other)):
        assert value(found, "frontline_items_handled", flow="triage") == 3
        assert value(found, "frontline_decisions_total", flow="triage", category="bug", severity="P1") == 2
        assert value(found, "frontline_decisions_total", flow="triage", category="billing", severity="P3") == 1
        assert value(found, "frontline_effects", flow="triage", kind="alert", status="done") == 1
        assert value(found, "frontline_effects", flow="triage", kind="alert", status="planned") == 2
        assert value(found, "frontline_inbox_depth", state="waiting") == 2
        assert value(found, "frontline_inbox_depth", state="dead") == 1
    other.store.close()


class Service:
    """Stands for opened services: a connector holding a vendor client."""

    def __init__(self, api: Any) -> None:
        self.helpdesk = type("Connector", (), {})()
        self.helpdesk.api = api


def test_retries_and_429s_of_this_process_are_exported(web: WebApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retries, "RETRIES", retries.RETRIES.__class__({"UnavailableError": 4}))
    monkeypatch.setattr("frontline.web.metrics.RETRIES", retries.RETRIES)
    client = httpx.AsyncClient()
    api = VendorAPI("Zendesk", client, "https://acme.zendesk.com")
    api.rate_limited = 3
    web.services.append(Service(api))
    web.rate_limited_closed["Slack"] = 2
    found = samples(web)
    assert value(found, "frontline_retries_total", cause="UnavailableError") == 4
    assert value(found, "frontline_rate_limited_total", service="Zendesk") == 3
    assert value(found, "frontline_rate_limited_total", service="Slack") == 2
    run(client.aclose())


def test_an_empty_store_still_exports_both_inbox_states(web: WebApp) -> None:
    found = samples(web)
    assert value(found, "frontline_inbox_depth", state="waiting") == 0
    assert ("frontline_inbox_depth", (("state", "dead"),)) in found


def test_a_delivery_that_could_not_be_recorded_is_counted(web: WebApp, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(entries: list[Any]) -> list[bool]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(web.recorder, "record", full_disk)
    assert deliver(web, "1", "a").status_code == 500  # the vendor retries it
    found = samples(web)
    assert value(found, "frontline_webhook_deliveries_total", source="zendesk", outcome="record_failed") == 1
    assert value(found, "frontline_webhook_deliveries_total", source="zendesk", outcome="recorded") == 0
