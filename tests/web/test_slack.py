"""The Slack receiver: signing secret and timestamp first, frontline's actions recorded once as feedback."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest

from frontline.web.app import WebApp
from frontline.web.signatures import sign_slack
from tests.web.conftest import SECRETS, call, recorded, web_app

SECRET = SECRETS["SLACK_SIGNING_SECRET"]
FORM = "application/x-www-form-urlencoded"


def interaction(*actions: dict[str, Any], trigger: str = "13345224609.738474920.8088930838d88f008e0") -> bytes:
    """A block_actions payload as Slack posts it: form-encoded, its JSON in ``payload``."""
    payload = {
        "type": "block_actions", "trigger_id": trigger,
        "user": {"id": "U0CA5", "username": "amy", "team_id": "T3MDE"},
        "team": {"id": "T3MDE", "domain": "acme"}, "api_app_id": "AABA1ABCD",
        "container": {"type": "message", "message_ts": "1548261231.000200", "channel_id": "C0CA5"},
        "channel": {"id": "C0CA5", "name": "engineering"},
        "response_url": "https://hooks.slack.com/actions/T3MDE/1/x",
        "actions": list(actions),
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def resolve(conversation: str = "215") -> dict[str, Any]:
    return {"type": "button", "action_id": "frontline:resolve", "block_id": "b1", "value": conversation,
            "text": {"type": "plain_text", "text": "Mark escalation resolved"}, "action_ts": "1548426417.840180"}


def correct(ticket: str = "4821", category: str = "billing") -> dict[str, Any]:
    return {"type": "static_select", "action_id": "frontline:category", "block_id": "b2",
            "selected_option": {"text": {"type": "plain_text", "text": category}, "value": f"{ticket}/{category}"},
            "action_ts": "1548426418.000001"}


def signed(body: bytes, *, secret: str = SECRET, age: float = 0.0, content_type: str = FORM) -> dict[str, str]:
    """Headers as Slack sends them, signed with the production signer."""
    stamp = str(int(time.time() - age))
    return {"content-type": content_type, "x-slack-request-timestamp": stamp,
            "x-slack-signature": sign_slack(secret, stamp, body)}


def post(app: WebApp, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return call(app, "POST", "/webhooks/slack", body, headers)


def test_mark_resolved_is_recorded_as_feedback_and_answered_with_an_empty_200(web: WebApp) -> None:
    body = interaction(resolve())
    answer = post(web, body, signed(body))
    assert answer.status_code == 200 and answer.content == b""
    assert recorded(web) == [("slack", "feedback", "215", {"kind": "resolve_escalation", "category": None,
                                                            "user": "U0CA5", "action_ts": "1548426417.840180"})]
    assert web.wake.is_set()


def test_a_category_correction_is_recorded_with_the_category(web: WebApp) -> None:
    body = interaction(correct("4821", "billing"))
    assert post(web, body, signed(body)).status_code == 200
    [(_, flow, item, payload)] = recorded(web)
    assert (flow, item, payload["kind"], payload["category"]) == ("feedback", "4821", "correct_category", "billing")


def test_a_correction_to_an_unknown_category_is_not_recorded(web: WebApp) -> None:
    body = interaction(correct("4821", "astrology"))
    assert post(web, body, signed(body)).status_code == 200
    assert recorded(web) == []


def test_a_replayed_interaction_is_recorded_once(web: WebApp) -> None:
    body = interaction(resolve())
    post(web, body, signed(body))
    assert post(web, body, signed(body, age=5)).status_code == 200
    assert len(recorded(web)) == 1


def test_the_url_verification_challenge_is_echoed_once_signed(web: WebApp) -> None:
    body = json.dumps({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvF",
                       "type": "url_verification"}).encode()
    answer = post(web, body, signed(body, content_type="application/json"))
    assert answer.status_code == 200 and answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvF"}
    unsigned = post(web, body, {"content-type": "application/json"})
    assert unsigned.status_code == 401 and unsigned.json() == {"error": "invalid signature"}


@pytest.mark.parametrize("body", [
    json.dumps({"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}}).encode(),
    urlencode({"command": "/frontline", "text": "help"}).encode(),
    urlencode({"payload": json.dumps({"type": "view_submission", "view": {}})}).encode(),
    interaction({"type": "button", "action_id": "someone_elses_button", "value": "1"}),
])
def test_events_commands_and_foreign_actions_are_acknowledged_without_a_record(web: WebApp, body: bytes) -> None:
    content_type = "application/json" if body.startswith(b"{") else FORM
    assert post(web, body, signed(body, content_type=content_type)).status_code == 200
    assert recorded(web) == []


def bad_headers() -> list[tuple[str, dict[str, str]]]:
    body = interaction(resolve())
    wrong = signed(body, secret="another-secret")
    v1 = signed(body)
    v1["x-slack-signature"] = v1["x-slack-signature"].replace("v0=", "v1=")
    no_stamp = signed(body)
    del no_stamp["x-slack-request-timestamp"]
    shifted = signed(body)
    shifted["x-slack-request-timestamp"] = str(int(shifted["x-slack-request-timestamp"]) - 1)
    other_body = signed(interaction(resolve("999")))
    return [("wrong secret", wrong), ("v1 prefix", v1), ("no timestamp", no_stamp), ("timestamp changed", shifted),
            ("other body", other_body), ("none", {"content-type": FORM})]


@pytest.mark.parametrize(("case", "headers"), bad_headers(), ids=[case for case, _ in bad_headers()])
def test_a_bad_signature_is_refused_with_a_minimal_body(web: WebApp, case: str, headers: dict[str, str]) -> None:
    answer = post(web, interaction(resolve()), headers)
    assert answer.status_code == 401 and answer.json() == {"error": "invalid signature"}, case
    assert recorded(web) == []


@pytest.mark.parametrize("age", [5 * 60 + 30, -(5 * 60 + 30)])
def test_stale_and_future_timestamps_are_refused(web: WebApp, age: float) -> None:
    body = interaction(resolve())
    assert post(web, body, signed(body, age=age)).status_code == 401
    assert recorded(web) == []


@pytest.mark.parametrize("body", [urlencode({"payload": "{not json"}).encode(),
                                  interaction(correct("4821", "")),
                                  interaction({"action_id": "frontline:resolve", "value": None}),
                                  b"\xff\xfe"])
def test_a_signed_payload_frontline_cannot_read_is_a_400(web: WebApp, body: bytes) -> None:
    assert post(web, body, signed(body)).status_code == 400
    assert recorded(web) == []


def test_an_oversized_body_is_refused(web: WebApp) -> None:
    body = interaction(resolve("x" * 5000))
    assert post(web, body, signed(body)).status_code == 413


def test_without_the_signing_secret_slack_is_refused_as_not_configured(workspace: Path) -> None:
    app = web_app(workspace, env={})
    body = interaction(resolve())
    assert post(app, body, signed(body)).status_code == 503


def _with(body_fields: dict[str, Any], *actions: dict[str, Any]) -> bytes:
    payload = json.loads(parse_qs(interaction(*actions).decode())["payload"][0])
    return urlencode({"payload": json.dumps({**payload, **body_fields})}).encode()


@pytest.mark.parametrize(("body", "field"), [
    (_with({"user": {"id": {"id": "U0CA5"}}}, resolve()), "user.id"),   # was recorded as "{'id': 'U0CA5'}"
    (_with({"user": {"id": "U0\ud800"}}, resolve()), "user.id"),
    (_with({"trigger_id": "13345\x00"}, resolve()), "trigger_id"),
    (_with({"trigger_id": "\udfff"}, resolve()), "trigger_id"),
    (_with({}, {**resolve(), "action_ts": "1548426417.\ud800"}), "actions[].action_ts"),
    (_with({}, resolve("2\x0015")), "actions[].value"),
    (_with({}, correct("\ud800")), "actions[].selected_option.value"),
])
def test_an_interaction_whose_fields_the_store_cannot_hold_is_a_400_naming_the_field(web: WebApp, body: bytes,
                                                                                    field: str) -> None:
    answer = post(web, body, signed(body))
    assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
    assert recorded(web) == []


@pytest.mark.parametrize(("action", "connector", "field"), [
    (correct("abc"), "helpdesk", "actions[].selected_option.value"),
    (resolve("12x"), "conversations", "actions[].value"),
])
def test_in_front_of_zendesk_or_intercom_an_id_that_is_not_their_number_is_a_400(web: WebApp, action: dict[str, Any],
                                                                                connector: str, field: str) -> None:
    vendor = {"helpdesk": "zendesk", "conversations": "intercom"}[connector]
    web.settings = web.settings.model_copy(update={
        "connectors": web.settings.connectors.model_copy(update={connector: vendor})})
    body = interaction(action)
    answer = post(web, body, signed(body))
    assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
    assert recorded(web) == []
