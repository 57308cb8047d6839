"""Property tests over every receiver and POST /tickets, through the ASGI app with the production signers.

Whatever a correctly signed body holds (any JSON, any bytes, text with lone surrogates, NUL or 5,000
characters, values of the wrong type), the answer is 2xx, 400 or 422, never 500; a good delivery sent
alongside it is recorded all the same; and what is recorded equals what was sent, except where the
format says so (ids are normalised; a ticket's text loses NUL and its surrounding blanks, a subject's
runs of blanks are collapsed).
"""

from __future__ import annotations

import contextlib
import itertools
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.model import normalise_id
from frontline.web.app import WebApp
from frontline.web.payloads import MAX_ID
from frontline.web.receivers import INTERCOM_TOPICS
from tests.helpers import run
from tests.web.conftest import recorded
from tests.web.deliveries import (
    headers_for,
    intercom_body,
    post_all,
    serving,
    slack_body,
    zendesk_body,
)

EXAMPLES = settings(max_examples=100, deadline=None)
ANSWERS = {200, 202, 400, 422}

# Text a vendor (or an attacker with the secret) could put in any string: ordinary, a lone surrogate,
# NUL and other controls, placeholders, very long.
NASTY = ["\ud800", "\udfff", "a\ud83d", "\x00", "7\x00", "{{ticket.id}}", "", " ", "007", "7.0", "1e3",
         "٣", "x" * 5000, "7" * 201, "\u2028", "<b>x</b>", "null"]
TEXT = st.one_of(
    st.text(max_size=30),
    st.text(st.sampled_from(["a", "7", " ", "\x00", "\ud800", "\udc00", "é", "/", "{"]), max_size=12),
    st.sampled_from(NASTY),
)
SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
ANY: st.SearchStrategy[Any] = st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)
ARBITRARY = st.binary(max_size=300) | ANY.map(lambda v: json.dumps(v).encode())

# Ids and text the stores can hold, for the round trips.
STORABLE_TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40)
ID = st.integers(min_value=0, max_value=10**15) | STORABLE_TEXT.filter(
    lambda s: s.strip() and "{{" not in s and s.isprintable() and len(s.strip()) <= MAX_ID)

_numbers = itertools.count()


def _good(source: str) -> tuple[tuple[str, bytes, dict[str, str]], str]:
    """A new good delivery from ``source`` and the item it names."""
    n = next(_numbers)
    item = f"good-{n}"
    if source == "intercom":
        body = intercom_body(f"good_{n}", item)
    elif source == "zendesk":
        body = zendesk_body(item, f"2026-11-20T10:00:{n % 60:02d}Z")
    elif source == "slack":
        body = slack_body(f"good.{n}", item)
    else:
        body = json.dumps({"id": item, "subject": "Export crashes"}).encode()
    return (source, body, headers_for(source, body)), item


def _exchange(app: WebApp, source: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """Send ``body`` (signed) together with a good delivery; the good one must be answered and recorded."""
    good, item = _good(source)
    signed = headers if headers is not None else headers_for(source, body)
    answer, good_answer = run(post_all(app, [(source, body, signed), good]))
    assert answer.status_code in ANSWERS, (answer.status_code, answer.text)
    assert good_answer.status_code in (200, 202), good_answer.text
    assert item in {row[2] for row in recorded(app)}
    if answer.status_code in (400, 422):
        assert answer.json().get("error") or answer.json().get("errors")
    return answer


# -- shaped bodies: each field the receiver reads is good, bad text, or anything -------------------------------
BAD_TEXT = st.sampled_from(NASTY) | st.text(st.sampled_from(["a", "7", "\x00", "\ud800", "\udc00"]), min_size=1,
                                            max_size=12)


def field(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value for one field: a good one, text no store can hold, or any JSON at all."""
    return st.one_of(good, BAD_TEXT, ANY)


GOOD_ID = st.integers(min_value=1, max_value=10**6).map(str)
STAMP = st.just("2026-11-20T10:00:00Z")


def corrupted(base: dict[str, Any], paths: list[tuple[str | int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` (a good body) with one of its fields, at ``paths``, replaced by bad text or any JSON."""

    def put(choice: tuple[tuple[str | int, ...], Any]) -> dict[str, Any]:
        path, value = choice
        body = json.loads(json.dumps(base))
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value
        return body  # type: ignore[no-any-return]

    return st.tuples(st.sampled_from(paths), st.one_of(BAD_TEXT, ANY)).map(put)


def _form(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


INTERCOM_BASE = json.loads(intercom_body("notif_1", "215"))
INTERCOM = st.one_of(
    corrupted(INTERCOM_BASE, [("id",), ("topic",), ("data", "item", "id"), ("data", "item"), ("data",)]).map(_json),
    st.builds(lambda topic, delivery, item: _json({**INTERCOM_BASE, "id": delivery, "topic": topic,
                                                  "data": {"item": item}}),
              field(st.sampled_from([*sorted(INTERCOM_TOPICS), "ping"])), field(GOOD_ID),
              field(st.fixed_dictionaries({"id": field(GOOD_ID)}))),
    ARBITRARY)
TRIGGER = {"ticket_id": "4821", "updated_at": "2026-11-20T10:00:00Z"}
ENVELOPE = {"type": "zen:event-type:ticket.created", "id": "evt-1",
            "detail": {"id": "35", "updated_at": "2026-11-20T10:00:00Z"}}
ZENDESK = st.one_of(
    corrupted(TRIGGER, [("ticket_id",), ("updated_at",)]).map(_json),
    corrupted({"ticket": {"id": "4821"}}, [("ticket",), ("ticket", "id")]).map(_json),
    corrupted(ENVELOPE, [("type",), ("id",), ("detail",), ("detail", "id"), ("detail", "updated_at")]).map(_json),
    st.fixed_dictionaries({"type": field(st.sampled_from(["zen:event-type:ticket.created",
                                                          "zen:event-type:user.created"])),
                           "id": field(GOOD_ID),
                           "detail": field(st.fixed_dictionaries({"id": field(GOOD_ID), "updated_at": field(STAMP)}))}
                          ).map(_json),
    ARBITRARY)
INTERACTION = json.loads(parse_qs(slack_body().decode())["payload"][0])
INTERACTION["actions"].append({"type": "static_select", "action_id": "frontline:category",
                               "selected_option": {"value": "4821/bug"}, "action_ts": "1548426418.000001"})
ACTION = st.fixed_dictionaries({
    "action_id": field(st.sampled_from(["frontline:resolve", "frontline:category"])),
    "value": field(GOOD_ID), "action_ts": field(st.just("1548426417.840180")),
    "selected_option": field(st.fixed_dictionaries({"value": field(GOOD_ID.map(lambda i: f"{i}/bug"))}))})
SLACK_CORRUPTED = (
    corrupted(INTERACTION, [("type",), ("trigger_id",), ("user",), ("user", "id"), ("actions",),
                            ("actions", 0), ("actions", 0, "value"), ("actions", 0, "action_ts"),
                            ("actions", 0, "action_id"), ("actions", 1, "selected_option"),
                            ("actions", 1, "selected_option", "value")]).map(_form))
SLACK = st.one_of(
    SLACK_CORRUPTED, SLACK_CORRUPTED,  # twice: most bodies are a real interaction with one field bad
    st.fixed_dictionaries({"type": field(st.just("block_actions")), "trigger_id": field(GOOD_ID),
                           "user": field(st.fixed_dictionaries({"id": field(st.just("U0CA5"))})),
                           "actions": field(st.lists(ACTION, min_size=1, max_size=3))}).map(_form),
    ANY.map(_form), ARBITRARY)
TICKET = {"id": "T-1", "subject": "Export crashes", "description": "The export fails.", "tags": ["a", "b"],
          "priority": "high", "status": "open", "mrr": 100, "created_at": "2026-11-20T10:00:00Z",
          "updated_at": "2026-11-20T10:00:00Z", "requester_email": "ana@example.com", "requester_name": "Ana",
          "company": "Acme", "plan": "pro"}
TICKETS = st.one_of(
    corrupted(TICKET, [(key,) for key in TICKET] + [("tags", 0)]).map(_json),
    st.lists(corrupted(TICKET, [(key,) for key in TICKET]) | ANY, min_size=1, max_size=4).map(_json),
    ARBITRARY)


FORM = "application/x-www-form-urlencoded"
SIGNED = {
    "intercom": INTERCOM.map(lambda body: ("application/json", body)),
    "zendesk": ZENDESK.map(lambda body: ("application/json", body)),
    "slack": st.one_of(SLACK.map(lambda body: (FORM, body)), SLACK_CORRUPTED.map(lambda body: (FORM, body)),
                       ANY.map(lambda v: ("application/json", _json(v))),
                       st.tuples(st.sampled_from([FORM, "application/json", ""]), ARBITRARY)),
}
# What a receiver writes of its own into a record (the rest comes from the body).
OWN = {"trigger", "resolve_escalation", "correct_category", ""}


def _scalars(content_type: str, body: bytes) -> list[str]:
    """Every string and number in the body sent (a Slack form's payload decoded), as text."""
    try:
        data = json.loads(parse_qs(body.decode())["payload"][0] if content_type == FORM else body)
    except (ValueError, KeyError, IndexError, RecursionError):
        return []
    found: list[str] = []
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            stack += value
        elif isinstance(value, str):
            found.append(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found.append(repr(value))
            with contextlib.suppress(ValueError, OverflowError):
                found.append(normalise_id(value))
    return found


def _came_from(value: str, sent: list[str]) -> bool:
    """``value`` is one of the body's values, normalised as an id, or a part of one (a menu's ticket id)."""
    for text in sent:
        if value in text:
            return True
        with contextlib.suppress(ValueError):
            if value == normalise_id(text):
                return True
    return False


@pytest.mark.parametrize("source", sorted(SIGNED))
def test_any_signed_webhook_body_is_answered_2xx_400_or_422_costs_no_other_delivery_and_is_recorded_as_sent(
        source: str, workspace: Path) -> None:
    with serving(workspace) as app:

        @EXAMPLES
        @given(SIGNED[source])
        def check(sent: tuple[str, bytes]) -> None:
            content_type, body = sent
            before = len(recorded(app, source))
            answer = _exchange(app, source, body, {**headers_for(source, body), "content-type": content_type})
            rows = recorded(app, source)[before:]
            if source != "slack":  # the good one, and this one if it was new
                new = answer.status_code == 200 and answer.json().get("duplicate") is False
                assert len(rows) == 1 + new
            scalars = _scalars(content_type, body)
            for _, _, item, payload in rows:
                if item.startswith("good-"):
                    continue
                assert _came_from(item, scalars), item  # never str() of an object, never a made-up id
                for value in payload.values():
                    assert value is None or value in OWN or _came_from(value, scalars), payload

        check()


def test_any_ticket_body_is_answered_202_400_or_422_and_costs_no_other_ticket(workspace: Path) -> None:
    with serving(workspace) as app:

        @EXAMPLES
        @given(TICKETS)
        def check(body: bytes) -> None:
            answer = _exchange(app, "tickets", body)
            if answer.status_code == 422:
                assert all(error["error"] for error in answer.json()["errors"])

        check()


# -- what is recorded is what was sent ----------------------------------------------------------------------
def _last(app: WebApp, source: str) -> tuple[Any, ...]:
    return recorded(app, source)[-1]


def test_an_intercom_notification_is_recorded_as_sent(workspace: Path) -> None:
    with serving(workspace) as app:

        @EXAMPLES
        @given(ID, STORABLE_TEXT, st.sampled_from(sorted(INTERCOM_TOPICS)))
        def check(conversation: int | str, delivery: str, topic: str) -> None:
            delivery = f"{next(_numbers)}:{delivery}"
            body = intercom_body(delivery, conversation, topic)
            answer = run(post_all(app, [("intercom", body, headers_for("intercom", body))]))[0]
            assert answer.status_code == 200, answer.text
            assert answer.json()["received"] == (delivery if len(delivery) <= MAX_ID else answer.json()["received"])
            assert _last(app, "intercom")[2:] == (normalise_id(conversation), {"topic": topic})

        check()


def test_a_zendesk_trigger_is_recorded_as_sent(workspace: Path) -> None:
    with serving(workspace) as app:

        @EXAMPLES
        @given(ID, STORABLE_TEXT.filter(lambda s: len(s) <= 200))
        def check(ticket: int | str, updated_at: str) -> None:
            body = zendesk_body(ticket, f"{next(_numbers)} {updated_at}")
            answer = run(post_all(app, [("zendesk", body, headers_for("zendesk", body))]))[0]
            assert answer.status_code == 200, answer.text
            assert _last(app, "zendesk")[2:] == (normalise_id(ticket), {"kind": "trigger",
                                                                         "updated_at": json.loads(body)["updated_at"]})

        check()


def test_a_slack_button_is_recorded_as_sent(workspace: Path) -> None:
    with serving(workspace) as app:

        @EXAMPLES
        @given(ID, STORABLE_TEXT.filter(lambda s: len(s) <= 200))
        def check(conversation: int | str, user: str) -> None:
            body = slack_body(f"t.{next(_numbers)}", conversation, user)
            answer = run(post_all(app, [("slack", body, headers_for("slack", body))]))[0]
            assert answer.status_code == 200, answer.text
            item, payload = _last(app, "slack")[2:]
            assert item == normalise_id(conversation)
            assert payload == {"kind": "resolve_escalation", "category": None, "user": user,
                               "action_ts": "1548426417.840180"}

        check()


PLAIN = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="<>&"), max_size=200)


def test_a_ticket_s_text_is_stored_as_sent_but_for_nul_and_blanks(workspace: Path) -> None:
    with serving(workspace) as app:
        helpdesk = LocalHelpdesk.from_settings(app.settings)

        @EXAMPLES
        @given(PLAIN, PLAIN, st.lists(STORABLE_TEXT.filter(lambda s: "," not in s and ";" not in s), max_size=3))
        def check(subject: str, description: str, tags: list[str]) -> None:
            ident = f"T-{next(_numbers)}"
            body = json.dumps({"id": ident, "subject": subject, "description": description, "tags": tags}).encode()
            answer = run(post_all(app, [("tickets", body, headers_for("tickets", body))]))[0]
            expected_subject = " ".join(subject.replace("\x00", "").split())
            expected_description = description.replace("\x00", "").strip()
            if not expected_subject and not expected_description:
                assert answer.status_code == 422
                return
            assert answer.status_code == 202, answer.text
            ticket = run(helpdesk.get(ident))
            assert (ticket.subject, ticket.description) == (expected_subject, expected_description)
            assert list(ticket.tags) == list(dict.fromkeys(t.strip() for t in tags if t.strip()))

        try:
            check()
        finally:
            run(helpdesk.aclose())


# Text a customer may write in any field: HTML look-alikes, quotes, separators, NUL, emoji, a lone surrogate.
SNIPPETS = st.sampled_from(["<script src=x>", "</script>", "<br>", "<p>", "</ticket>", "<b>x</b>", "&amp;", "&lt;",
                            '"', "'", ",", ";", "\n", "\t", " ", "\x00", "\u2028", "\ufeff", "ü", "日本", "😀",
                            "{{ticket.id}}", "[/]", "[bold red]", "=cmd|' /C calc'!A0", "\ud800"])
FREE_TEXT = st.lists(st.one_of(SNIPPETS, st.text(st.characters(exclude_categories=["Cs"]), max_size=10)),
                     max_size=6).map("".join)
PRIORITY = st.sampled_from(["urgent", "high", "normal", "low"])
STATUS = st.sampled_from(["new", "open", "pending", "hold", "solved", "closed"])


def _id_sent(shape: str, text: str, number: int) -> tuple[Any, str]:
    """An id as a caller may write it (unique per example), and the one form it is stored under."""
    if shape == "int":
        return number, str(number)
    if shape == "float":
        return float(number), str(number)
    if shape == "digits":
        return f" {number}.0 ", str(number)
    ident = f"{text.strip()}~{number}"
    return ident, ident


def _unstorable_field(ticket: dict[str, Any]) -> str | None:
    """The first field (in the order sent) holding a lone surrogate, as the 422 names it."""
    for key, value in ticket.items():
        values = value if isinstance(value, list) else [value]
        for index, item in enumerate(values):
            if isinstance(item, str) and any("\ud800" <= c <= "\udfff" for c in item):
                return f"{key}[{index}]" if isinstance(value, list) else key
    return None


def _clean(text: str) -> str:
    return text.replace("\x00", "").strip()


def test_a_ticket_is_stored_as_sent_in_every_field_except_where_the_format_says_so(workspace: Path) -> None:
    from frontline.decide.text import html_to_text

    with serving(workspace) as app:
        helpdesk = LocalHelpdesk.from_settings(app.settings)

        @EXAMPLES
        @given(shape=st.sampled_from(["int", "float", "digits", "text"]),
               id_text=ID.filter(lambda i: isinstance(i, str) and len(i.strip()) < 180 and "\x00" not in i),
               subject=FREE_TEXT, description=FREE_TEXT, html=st.booleans(), name=FREE_TEXT, email=FREE_TEXT,
               company=FREE_TEXT, plan=FREE_TEXT, mrr=st.floats(0, 1e9) | st.integers(0, 10**9),
               tags=st.lists(FREE_TEXT.filter(lambda t: "," not in t and ";" not in t), max_size=3),
               priority=PRIORITY, status=STATUS)
        def check(shape: str, id_text: str, subject: str, description: str, html: bool, name: str, email: str,
                  company: str, plan: str, mrr: float, tags: list[str], priority: str, status: str) -> None:
            sent_id, stored_id = _id_sent(shape, id_text, next(_numbers) + 10**6)
            ticket = {"id": sent_id, "subject": subject, "description": description, "requester_name": name,
                      "requester_email": email, "company": company, "plan": plan, "mrr": mrr, "tags": tags,
                      "priority": priority, "status": status, **({"format": "html"} if html else {})}
            body = json.dumps(ticket).encode()
            answer = run(post_all(app, [("tickets", body, headers_for("tickets", body))]))[0]
            expected_subject = " ".join(subject.replace("\x00", "").split())
            expected_description = html_to_text(_clean(description)) if html else _clean(description)
            unstorable = _unstorable_field(ticket)
            if unstorable is not None:
                assert answer.status_code == 422, answer.text
                [error] = answer.json()["errors"]
                assert error["field"] == unstorable and "surrogate" in error["error"]
                return
            if not expected_subject and not expected_description:
                assert answer.status_code == 422, answer.text
                return
            assert answer.status_code == 202, answer.text
            assert answer.json()["accepted"] == [stored_id]
            stored = run(helpdesk.get(stored_id))
            assert stored.id == stored_id
            assert (stored.subject, stored.description) == (expected_subject, expected_description)
            assert (stored.requester.name, stored.requester.email) == (_clean(name), _clean(email))
            assert stored.company is not None
            assert (stored.company.name, stored.company.plan, stored.company.mrr) == (
                _clean(company), _clean(plan).lower() or None, float(mrr))
            assert list(stored.tags) == list(dict.fromkeys(_clean(t) for t in tags if _clean(t)))
            assert (stored.priority, stored.status) == (priority, status)

        try:
            check()
        finally:
            run(helpdesk.aclose())
