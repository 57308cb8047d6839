"""POST /tickets: a bearer key, validation like an import, upsert into the embedded helpdesk, queued for triage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.web.app import WebApp
from tests.helpers import run
from tests.web.conftest import SECRETS, call, recorded, web_app

KEY = SECRETS["FRONTLINE_API_KEY"]
AUTH = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}


def ticket(ident: object = "T-1", **fields: Any) -> dict[str, Any]:
    return {"id": ident, "subject": "Export crashes", "description": "The CSV export fails with an error.",
            "requester_email": "ana@example.com", "updated_at": "2026-11-20T10:00:00Z", **fields}


def post(app: WebApp, payload: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return call(app, "POST", "/tickets", body, AUTH if headers is None else headers)


def stored(app: WebApp, ticket_id: str) -> Any:
    return run(LocalHelpdesk.from_settings(app.settings).get(ticket_id))


def test_one_ticket_is_stored_queued_for_triage_and_accepted(web: WebApp) -> None:
    answer = post(web, ticket())
    assert answer.status_code == 202
    assert answer.json() == {"accepted": ["T-1"], "created": 1, "updated": 0}
    assert stored(web, "T-1").subject == "Export crashes"
    assert recorded(web) == [("api", "triage", "T-1", None)]
    assert web.wake.is_set()


def test_a_list_is_stored_in_one_go_and_its_duplicates_collapse(web: WebApp) -> None:
    answer = post(web, [ticket("1"), ticket(2), ticket("1", subject="Export crashes again")])
    assert answer.status_code == 202 and answer.json()["accepted"] == ["1", "2"]
    assert stored(web, "1").subject == "Export crashes again"
    assert [row[2] for row in recorded(web)] == ["1", "2"]


def test_the_same_version_is_queued_once_and_an_update_again(web: WebApp) -> None:
    post(web, ticket())
    again = post(web, ticket())
    assert again.status_code == 202 and again.json() == {"accepted": ["T-1"], "created": 0, "updated": 1}
    post(web, ticket(updated_at="2026-11-21T08:00:00Z", description="Still failing."))
    assert len(recorded(web)) == 2
    assert stored(web, "T-1").description == "Still failing."


def test_invalid_tickets_are_a_422_with_one_message_each_and_nothing_is_stored(web: WebApp) -> None:
    answer = post(web, [ticket("ok"), {"subject": "no id"}, ticket("3", priority="asap"), "text",
                        ticket("4", subject="", description="")])
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert [e["index"] for e in errors] == [1, 2, 3, 4]
    assert "has no id" in errors[0]["error"]
    assert errors[1]["id"] == "3" and "priority 'asap'" in errors[1]["error"]
    assert "not a JSON object" in errors[2]["error"]
    assert "neither a subject nor a description" in errors[3]["error"]
    assert recorded(web) == []
    with pytest.raises(Exception, match="no ticket ok"):
        stored(web, "ok")


@pytest.mark.parametrize("body", [b"not json", b"[]", json.dumps([ticket(n) for n in range(1001)]).encode()])
def test_a_body_that_is_not_tickets_is_a_400(workspace: Path, body: bytes) -> None:
    app = web_app(workspace, max_body=1_000_000)
    answer = post(app, body)
    assert answer.status_code == 400 and "error" in answer.json()


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", f"Basic {KEY}", f"Bearer {KEY}x", "Bearer "])
def test_without_the_right_bearer_key_the_answer_is_a_minimal_401(web: WebApp, authorization: str | None) -> None:
    headers = {"content-type": "application/json"}
    if authorization is not None:
        headers["authorization"] = authorization
    answer = post(web, ticket(), headers)
    assert answer.status_code == 401 and answer.json() == {"error": "unauthorized"}
    assert answer.headers["www-authenticate"] == "Bearer"
    assert recorded(web) == []


def test_without_a_configured_key_tickets_are_refused(workspace: Path) -> None:
    app = web_app(workspace, env={})
    assert post(app, ticket(), {**AUTH, "authorization": "Bearer "}).status_code == 503


def test_with_another_helpdesk_configured_the_intake_is_a_conflict(workspace: Path) -> None:
    app = web_app(workspace, '[connectors]\nhelpdesk = "zendesk"\n[zendesk]\nsubdomain = "acme"\n')
    answer = post(app, ticket())
    assert answer.status_code == 409 and "embedded helpdesk" in answer.json()["error"]


def test_an_oversized_body_is_refused(web: WebApp) -> None:
    assert post(web, ticket(description="x" * 5000)).status_code == 413


@pytest.mark.parametrize(("fields", "field"), [
    ({"subject": "Export \ud800 crashes"}, "subject"),       # was a 500
    ({"description": "\udfff"}, "description"),
    ({"tags": ["ok", "b\ud800d"]}, "tags[1]"),
    ({"id": {"id": "T-1"}}, "id"),                             # was stored as the ticket "{'id': 'T-1'}"
    ({"id": "T-\x001"}, "id"),
    ({"id": "T" * 201}, "id"),
    ({"id": "T-\ud800"}, "id"),
])
def test_a_ticket_whose_fields_the_store_cannot_hold_is_a_422_naming_the_field(web: WebApp, fields: dict[str, Any],
                                                                              field: str | None) -> None:
    answer = post(web, [ticket("ok"), ticket(**fields)])
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["index"] == 1 and error.get("field") == field and error["error"]
    assert recorded(web) == []


def test_nul_in_a_ticket_s_text_is_dropped_as_an_import_drops_it(web: WebApp) -> None:
    assert post(web, ticket(subject="Export\x00 crashes")).status_code == 202
    assert stored(web, "T-1").subject == "Export crashes"


def test_a_description_that_only_looks_like_html_is_stored_as_sent(web: WebApp) -> None:
    said = "Use <script src=x> to load it, then <br> shows the error\n\n  <b>indented</b> & more"
    answer = post(web, [ticket("1", subject="<br> in <i>subject</i>", description=said),
                        ticket("2", description="<p>Export &amp; import</p><p>fail</p>", format="html")])
    assert answer.status_code == 202
    assert (stored(web, "1").subject, stored(web, "1").description) == ("<br> in <i>subject</i>", said)
    assert stored(web, "2").description == "Export & import\n\nfail"
