"""Property tests for the webhook payload parsers: whatever a signed body holds, they answer or refuse cleanly."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontline.model import normalise_id
from frontline.web.payloads import MAX_ID, PayloadError, slack_request, ticket_batch, zendesk_event

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(["ticket_id", "ticket", "type", "id", "detail", "updated_at", "payload", "actions",
                        "subject", "description", "challenge", "trigger_id", "user"])
SHAPED = st.dictionaries(KEYS, JSON, max_size=6)
IDS = st.integers(min_value=0, max_value=10**12) | st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P"], exclude_characters="{}"), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")


def bodies() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, arbitrary JSON, and JSON shaped like the real payloads."""
    return st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()) | SHAPED.map(
        lambda v: json.dumps(v).encode())


@settings(max_examples=300)
@given(bodies())
def test_the_zendesk_parser_answers_or_refuses_with_a_payload_error(body: bytes) -> None:
    try:
        event = zendesk_event(body)
    except PayloadError:
        return
    assert event.ticket_id is None or (0 < len(event.ticket_id) <= MAX_ID and "{{" not in event.ticket_id)


@given(IDS)
def test_a_zendesk_trigger_names_the_ticket_it_was_rendered_for(ticket: int | str) -> None:
    expected = normalise_id(ticket)
    body = json.dumps({"ticket_id": ticket}).encode()
    if len(expected) > MAX_ID or not expected.isprintable():
        with pytest.raises(PayloadError):
            zendesk_event(body)
    else:
        assert zendesk_event(body).ticket_id == expected


@settings(max_examples=300)
@given(bodies(), st.sampled_from(["application/json", "application/x-www-form-urlencoded", ""]))
def test_the_slack_parser_answers_or_refuses_with_a_payload_error(body: bytes, content_type: str) -> None:
    try:
        request = slack_request(body, content_type)
    except PayloadError:
        return
    assert request.kind in ("url_verification", "interaction", "ignored")
    assert (request.kind == "interaction") == bool(request.actions)


@settings(max_examples=300)
@given(st.dictionaries(KEYS, JSON, max_size=6) | st.fixed_dictionaries(
    {"type": st.just("block_actions"), "trigger_id": st.text(max_size=20),
     "actions": st.lists(st.dictionaries(st.sampled_from(["action_id", "value", "selected_option", "action_ts"]),
                                         JSON | st.sampled_from(["frontline:resolve", "frontline:category"]),
                                         max_size=4), max_size=3)}))
def test_any_interaction_payload_form_encoded_is_read_or_refused(payload: dict[str, Any]) -> None:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    try:
        request = slack_request(body, "application/x-www-form-urlencoded")
    except PayloadError:
        return
    for action in request.actions:
        assert action.item_id and (action.category is None) == (action.kind == "resolve_escalation")


@given(IDS, st.sampled_from(["bug", "billing", "how_to"]))
def test_a_category_menu_value_round_trips(ticket: int | str, category: str) -> None:
    text = normalise_id(ticket)
    action = {"action_id": "frontline:category", "selected_option": {"value": f"{text}/{category}"}}
    body = urlencode({"payload": json.dumps({"type": "block_actions", "actions": [action]})}).encode()
    try:
        request = slack_request(body, "application/x-www-form-urlencoded")
    except PayloadError:
        assert len(text) > MAX_ID or not text.isprintable() or "{{" in text
        return
    [read] = request.actions
    assert (read.item_id, read.category) == (normalise_id(text), category)


@settings(max_examples=300)
@given(bodies() | st.lists(SHAPED, max_size=5).map(lambda v: json.dumps(v).encode()))
def test_the_ticket_intake_validates_every_item_or_refuses_the_body(body: bytes) -> None:
    try:
        batch = ticket_batch(body)
    except PayloadError:
        return
    assert batch.records or batch.errors
    ids = [r["id"] for r in batch.records]
    assert len(ids) == len(set(ids)) and all(0 < len(i) <= MAX_ID for i in ids)
    assert all(isinstance(e["index"], int) and e["error"] for e in batch.errors)
