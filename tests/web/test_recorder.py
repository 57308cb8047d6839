"""Recording deliveries in batches: one delivery the store cannot hold never costs the others theirs."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from frontline.errors import UnstorableError
from frontline.store.inbox import Entry
from frontline.web.recorder import InboxRecorder
from tests.helpers import run
from tests.web.conftest import recorded
from tests.web.deliveries import (
    BACKENDS,
    backend_app,
    headers_for,
    intercom_body,
    post_all,
    slack_body,
)

Request = tuple[str, bytes, dict[str, str]]


def good(source: str, n: int) -> Request:
    """The n-th good delivery of ``source`` (its own delivery id and item)."""
    if source == "intercom":
        body = intercom_body(f"notif_{n}", str(1000 + n))
    elif source == "zendesk":
        body = (b'{"ticket_id": "%d", "updated_at": "2026-11-20T10:00:00Z"}' % (1000 + n))
        return source, body, headers_for(source, body, invocation=f"inv-{n}")
    else:
        body = slack_body(f"trigger.{n}", str(1000 + n))
    return source, body, headers_for(source, body)


# Signed deliveries whose ids no store can hold as they are: a lone surrogate (neither SQLite nor
# PostgreSQL can encode it), NUL (PostgreSQL refuses it), an object where a string belongs.
BAD: dict[str, Callable[[], Request]] = {
    "intercom-surrogate-delivery": lambda: ("intercom", intercom_body("\ud800", "77"),
                                            headers_for("intercom", intercom_body("\ud800", "77"))),
    "intercom-nul-delivery": lambda: ("intercom", intercom_body("n\x00l", "77"),
                                      headers_for("intercom", intercom_body("n\x00l", "77"))),
    "zendesk-surrogate-event": lambda: _zendesk_event("\udfff"),
    "slack-surrogate-trigger": lambda: ("slack", slack_body("t\ud800"), headers_for("slack", slack_body("t\ud800"))),
}


def _zendesk_event(event_id: str) -> Request:
    """A Zendesk event envelope (no invocation id header: the event id names the delivery)."""
    body = json.dumps({"type": "zen:event-type:ticket.comment_added", "id": event_id, "detail": {"id": "77"}}).encode()
    return "zendesk", body, headers_for("zendesk", body)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bad", sorted(BAD))
def test_one_bad_delivery_among_a_hundred_good_ones_is_refused_alone(backend: str, bad: str,
                                                                     workspace: Path) -> None:
    source = bad.split("-")[0]
    shuffle = random.Random(bad)
    with backend_app(backend, workspace) as app:
        for round_ in range(3):
            requests = [good(source, round_ * 100 + n) for n in range(100)]
            at = shuffle.randrange(101)
            requests.insert(at, BAD[bad]())
            answers = run(post_all(app, requests))
            refused = answers.pop(at)
            assert [a.status_code for a in answers] == [200] * 100, {a.status_code for a in answers}
            assert refused.status_code in (400, 422), refused.text
            assert set(refused.json()) == {"error", "field"} and refused.json()["field"]
        entries = recorded(app, source)
        assert len(entries) == 300
        assert "77" not in {item for _, _, item, _ in entries}


def entries_around(bad: Entry) -> list[Entry]:
    """Fifty good deliveries with ``bad`` in the middle."""
    good_ones = [Entry("intercom", f"notif_{n}", "escalate", str(n), {"topic": "t"}) for n in range(50)]
    return [*good_ones[:25], bad, *good_ones[25:]]


UNSTORABLE = {
    "surrogate-delivery": (Entry("intercom", "\ud800", "escalate", "7"), "delivery"),
    "nul-item": (Entry("intercom", "n", "escalate", "7\x00"), "item_id"),
    "long-item": (Entry("intercom", "n", "escalate", "7" * 201), "item_id"),
    "surrogate-payload": (Entry("intercom", "n", "escalate", "7", {"user": "\udfff"}), "payload.user"),
    "nan-payload": (Entry("intercom", "n", "escalate", "7", {"n": float("nan")}), "payload.n"),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(UNSTORABLE))
def test_an_entry_the_store_cannot_hold_is_refused_alone_and_named(backend: str, case: str, workspace: Path) -> None:
    bad, field = UNSTORABLE[case]
    with backend_app(backend, workspace) as app:
        outcomes = InboxRecorder(app.inbox).record(entries_around(bad))
        refused = outcomes.pop(25)
        assert outcomes == [True] * 50
        assert isinstance(refused, UnstorableError) and refused.field == field
        assert len(recorded(app)) == 50


@pytest.mark.parametrize("backend", BACKENDS)
def test_when_a_batch_fails_for_one_row_each_entry_is_recorded_on_its_own(backend: str, workspace: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # As if the check before the batch had missed it: the database itself refuses the row.
    monkeypatch.setattr("frontline.web.recorder.unstorable", lambda entry: None)
    with backend_app(backend, workspace) as app:
        outcomes = InboxRecorder(app.inbox).record(entries_around(Entry("intercom", "\ud800", "escalate", "7")))
        refused = outcomes.pop(25)
        assert outcomes == [True] * 50 and isinstance(refused, Exception)
        assert len(recorded(app)) == 50
        again = InboxRecorder(app.inbox).record(entries_around(Entry("intercom", "\ud800", "escalate", "7")))
        assert again[:25] + again[26:] == [False] * 50  # the fallback still tells redeliveries apart
