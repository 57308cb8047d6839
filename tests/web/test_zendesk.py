"""The Zendesk receiver: signature and timestamp first, a durable record for triage, duplicates once."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from frontline.web.app import WebApp
from frontline.web.signatures import sign_zendesk, zendesk_timestamp
from tests.helpers import run
from tests.web.conftest import SECRETS, call, recorded, web_app

SECRET = SECRETS["ZENDESK_WEBHOOK_SECRET"]


def trigger(ticket: object = "4821", **extra: object) -> bytes:
    """The JSON body frontline documents for a "ticket created/updated" trigger, as Zendesk renders it."""
    return json.dumps({"ticket_id": ticket, "updated_at": "2026-11-20T10:00:00Z", **extra}).encode()


def signed(body: bytes, *, secret: str = SECRET, age: float = 0.0, invocation: str | None = "8350205582",
           timestamp: str | None = None) -> dict[str, str]:
    """Headers as Zendesk sends them, signed with the production signer."""
    stamp = timestamp or zendesk_timestamp(time.time() - age)
    headers = {"content-type": "application/json", "x-zendesk-account-id": "123456",
               "x-zendesk-webhook-id": "01F1KRFQ6BG29CNWFR60NK5FNY",
               "x-zendesk-webhook-signature-timestamp": stamp,
               "x-zendesk-webhook-signature": sign_zendesk(secret, stamp, body)}
    if invocation is not None:
        headers["x-zendesk-webhook-invocation-id"] = invocation
    return headers


def post(app: WebApp, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return call(app, "POST", "/webhooks/zendesk", body, headers)


def test_a_signed_trigger_is_recorded_for_triage_and_answered(web: WebApp) -> None:
    body = trigger()
    headers = signed(body)
    answer = post(web, body, headers)
    assert answer.status_code == 200
    stamp = headers["x-zendesk-webhook-signature-timestamp"]
    assert answer.json() == {"received": f"{stamp}:{hashlib.sha256(body).hexdigest()}", "duplicate": False}
    assert recorded(web) == [("zendesk", "triage", "4821",
                              {"kind": "trigger", "updated_at": "2026-11-20T10:00:00Z"})]
    assert web.wake.is_set()


def test_numeric_ids_and_the_nested_ticket_shape_are_read(web: WebApp) -> None:
    first, second = trigger(4821.0), json.dumps({"ticket": {"id": 77}}).encode()
    assert post(web, first, signed(first, invocation="1")).status_code == 200
    assert post(web, second, signed(second, invocation="2")).status_code == 200
    assert [row[2] for row in recorded(web)] == ["4821", "77"]


def bad_headers() -> list[tuple[str, dict[str, str]]]:
    body = trigger()
    other = signed(body, secret="another-secret")
    hexed = signed(body)
    hexed["x-zendesk-webhook-signature"] = "ab" * 32
    missing_stamp = signed(body)
    del missing_stamp["x-zendesk-webhook-signature-timestamp"]
    missing_signature = signed(body)
    del missing_signature["x-zendesk-webhook-signature"]
    moved = signed(body)  # the signature of one instant presented with another
    moved["x-zendesk-webhook-signature-timestamp"] = zendesk_timestamp(time.time() - 1)
    over_other_body = signed(trigger("9999"))
    return [("wrong secret", other), ("hex digest", hexed), ("no timestamp", missing_stamp),
            ("no signature", missing_signature), ("timestamp changed", moved), ("other body", over_other_body)]


@pytest.mark.parametrize(("case", "headers"), bad_headers(), ids=[case for case, _ in bad_headers()])
def test_a_bad_signature_is_refused_with_a_minimal_body_and_nothing_recorded(web: WebApp, case: str,
                                                                             headers: dict[str, str]) -> None:
    answer = post(web, trigger(), headers)
    assert answer.status_code == 401 and answer.json() == {"error": "invalid signature"}, case
    assert recorded(web) == []


@pytest.mark.parametrize("age", [6 * 60, -6 * 60, 86400 * 365])
def test_stale_and_future_timestamps_are_refused_like_bad_signatures(web: WebApp, age: float) -> None:
    body = trigger()
    answer = post(web, body, signed(body, age=age))
    assert answer.status_code == 401 and answer.json() == {"error": "invalid signature"}
    assert recorded(web) == []


def test_a_timestamp_inside_the_window_is_accepted(web: WebApp) -> None:
    body = trigger()
    assert post(web, body, signed(body, age=4 * 60)).status_code == 200


def test_a_timestamp_that_is_not_a_date_is_refused(web: WebApp) -> None:
    body = trigger()
    assert post(web, body, signed(body, timestamp="yesterday")).status_code == 401


def test_the_window_is_configurable(workspace: Path) -> None:
    app = web_app(workspace, "timestamp_tolerance_seconds = 30\n")
    body = trigger()
    assert post(app, body, signed(body, age=60)).status_code == 401
    assert post(app, body, signed(body, age=10)).status_code == 200


@pytest.mark.parametrize("resent", [{"x-zendesk-webhook-invocation-id": "9999999999"},
                                    {"x-zendesk-webhook-invocation-id": ""},
                                    {"x-zendesk-webhook-id": "01OTHERWEBHOOK0000000000000"}],
                         ids=["new-invocation", "no-invocation", "other-webhook-id"])
def test_a_captured_delivery_resent_with_other_unsigned_headers_is_recorded_once(web: WebApp,
                                                                                 resent: dict[str, str]) -> None:
    body = trigger()
    headers = signed(body)
    assert post(web, body, headers).json()["duplicate"] is False
    replay = post(web, body, {**headers, **resent})  # the same signature and timestamp, inside the window
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert len(recorded(web)) == 1


def test_the_same_body_signed_at_another_time_is_another_delivery(web: WebApp) -> None:
    # A trigger whose body names no version fires again for the next update of the ticket: a new delivery
    # (a retry Zendesk signs again is one too; the worker triages a ticket version once all the same).
    body = trigger()
    post(web, body, signed(body, invocation=None, age=30))
    assert post(web, body, signed(body, invocation=None)).json()["duplicate"] is False
    other = trigger("4822")
    assert post(web, other, signed(other, invocation=None)).json()["duplicate"] is False
    assert [row[2] for row in recorded(web)] == ["4821", "4821", "4822"]


def test_zendesk_ticket_events_are_read_and_other_events_ignored(web: WebApp) -> None:
    event = json.dumps({"type": "zen:event-type:ticket.created", "id": "evt-1", "account_id": 123456,
                        "subject": "zen:ticket:35", "detail": {"id": "35", "status": "NEW"}}).encode()
    assert post(web, event, signed(event, invocation=None)).json() == {"received": "evt-1", "duplicate": False}
    user = json.dumps({"type": "zen:event-type:user.created", "id": "evt-2", "detail": {"id": "9"}}).encode()
    assert post(web, user, signed(user)).json() == {"ignored": "zen:event-type:user.created"}
    assert recorded(web) == [("zendesk", "triage", "35", {"kind": "zen:event-type:ticket.created",
                                                           "updated_at": None})]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"subject": "no id"}', trigger("{{ticket.id}}"),
                                  trigger(None), trigger({"id": 1}), trigger("x" * 300)])
def test_a_signed_body_frontline_cannot_read_is_a_400_and_not_recorded(web: WebApp, body: bytes) -> None:
    answer = post(web, body, signed(body))
    assert answer.status_code == 400 and "error" in answer.json()
    assert recorded(web) == []


def test_an_oversized_body_is_refused_before_anything_else(web: WebApp) -> None:
    body = trigger(padding="x" * 5000)
    assert post(web, body, signed(body)).status_code == 413
    assert recorded(web) == []


def test_without_the_signing_secret_zendesk_webhooks_are_refused_as_not_configured(workspace: Path) -> None:
    app = web_app(workspace, env={})
    body = trigger()
    answer = post(app, body, signed(body))
    assert answer.status_code == 503 and recorded(app) == []


@pytest.mark.parametrize(("body", "field"), [
    (trigger(updated_at="2026-11-20T10:00:00Z\ud800"), "updated_at"),
    (trigger(updated_at="x" * 201), "updated_at"),
    (trigger("48\x0021"), "ticket_id"),
    (trigger({"id": 4821}), "ticket_id"),
    (json.dumps({"ticket": {"id": "\ud800"}}).encode(), "ticket.id"),
    (json.dumps({"type": "zen:event-type:ticket.created", "id": "evt\x00", "detail": {"id": "35"}}).encode(), "id"),
    (json.dumps({"type": "zen:event-type:ticket.created", "id": ["evt"], "detail": {"id": "35"}}).encode(), "id"),
    (json.dumps({"type": "zen:event-type:ticket.\ud800", "id": "evt-1", "detail": {"id": "35"}}).encode(), "type"),
    (json.dumps({"type": "zen:event-type:ticket.created", "id": "evt-1",
                 "detail": {"id": "35", "updated_at": "\udc00"}}).encode(), "detail.updated_at"),
])
def test_a_trigger_whose_fields_the_store_cannot_hold_is_a_400_naming_the_field(web: WebApp, body: bytes,
                                                                               field: str) -> None:
    answer = post(web, body, signed(body))
    assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
    assert recorded(web) == []



@pytest.fixture
def zendesk_web(workspace: Path) -> Iterator[WebApp]:
    """The app in front of Zendesk itself (connectors.helpdesk = "zendesk")."""
    app = web_app(workspace)
    connectors = app.settings.connectors.model_copy(update={"helpdesk": "zendesk"})
    app.settings = app.settings.model_copy(update={"connectors": connectors})
    yield app
    run(app.aclose())
    app.store.close()


@pytest.mark.parametrize("ticket", ["abc", "12x", "007", "-1", "+7", "1e3", "1_000", "\u0663", 4.5, -3,
                                    str(2**63), 2**63])
def test_a_ticket_id_that_is_no_zendesk_ticket_number_is_a_400_naming_the_field(zendesk_web: WebApp,
                                                                               ticket: object) -> None:
    # Recorded, such an id was only settled later as a ticket that is gone: Zendesk's ids are numbers.
    body = trigger(ticket)
    answer = post(zendesk_web, body, signed(body))
    assert answer.status_code == 400 and answer.json()["field"] == "ticket_id", answer.text
    assert "number" in answer.json()["error"]
    assert recorded(zendesk_web) == []


def test_an_event_whose_ticket_id_is_no_number_is_a_400_naming_the_field(zendesk_web: WebApp) -> None:
    event = json.dumps({"type": "zen:event-type:ticket.created", "id": "evt-1", "detail": {"id": "abc"}}).encode()
    answer = post(zendesk_web, event, signed(event))
    assert answer.status_code == 400 and answer.json()["field"] == "detail.id"
    assert recorded(zendesk_web) == []


def test_zendesk_ticket_numbers_are_recorded_in_front_of_zendesk(zendesk_web: WebApp) -> None:
    first, second = trigger(4821.0), json.dumps({"ticket": {"id": "77"}}).encode()
    assert post(zendesk_web, first, signed(first)).status_code == 200
    assert post(zendesk_web, second, signed(second)).status_code == 200
    assert [row[2] for row in recorded(zendesk_web)] == ["4821", "77"]


def test_in_front_of_the_embedded_helpdesk_any_storable_ticket_id_is_kept(web: WebApp) -> None:
    body = trigger("acme-007")  # the embedded helpdesk's ids are whatever POST /tickets or an import gave
    assert post(web, body, signed(body)).status_code == 200
    assert [row[2] for row in recorded(web)] == ["acme-007"]
