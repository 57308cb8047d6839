"""Triage on Zendesk: the flow against the fake Zendesk, with the embedded KB and the outbox chat."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from frontline.config import Settings, load_settings
from frontline.connectors.local.outbox import OutboxChat
from frontline.engine.services import open_flow
from frontline.flows.triage import RunSummary, run_triage
from frontline.model import WriteBack
from frontline.ports import WriteResult
from tests.fakes.zendesk import ADMIN_EMAIL, ADMIN_TOKEN, FakeZendesk
from tests.helpers import make_settings, run

ENV = {"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": ADMIN_EMAIL, "ZENDESK_API_TOKEN": ADMIN_TOKEN}
CONFIG = """
[classifier]
kind = "rules"
[connectors]
helpdesk = "zendesk"
[zendesk.custom_fields]
360001 = "{category}"
"""
REQUESTS = [
    ("Cannot log in", "I forgot my password and I'm locked out of my account", ("vip",)),
    ("Charged twice", "Our invoice shows a double charge on the credit card", ()),
    ("hello", "??", ()),
    ("Export crashes", "The CSV export crashes with an error every time", ("mobile",)),
    ("Idea", "Feature request: it would be great to have dark mode", ()),
]
MARKER = re.compile(r"\[(fl-[0-9a-f]+)\]")


@pytest.fixture
def settings(workspace: Path) -> Settings:
    """Rules classifier, Zendesk helpdesk (acme.zendesk.com), local KB and outbox chat."""
    make_settings(workspace, CONFIG)
    return load_settings(workspace / "frontline.toml", environ=ENV, dotenv=None)


def seed(fake: FakeZendesk, copies: int = 1) -> list[int]:
    acme = fake.add_organization("Acme", plan="enterprise", mrr=9000)
    tiny = fake.add_organization("Tiny", plan="starter", mrr="20")
    big = fake.add_user("Ann Customer", "ann@acme.example", organization_id=acme)
    small = fake.add_user("Tim Tiny", "tim@tiny.example", organization_id=tiny)
    fake.add_ticket("Old and solved", "Thanks, all good now", requester_id=big, status="solved")
    return [fake.add_ticket(subject if copy == 0 else f"{subject} ({copy})", body, requester_id=small if n else big,
                            tags=tags, status="open" if n % 2 else "new")
            for copy in range(copies) for n, (subject, body, tags) in enumerate(REQUESTS)]


def triage(settings: Settings, fake: FakeZendesk, **replace: Any) -> RunSummary:
    async def go() -> RunSummary:
        async with fake.client() as http, open_flow("triage", settings, http=http) as services:
            for name, wrap in replace.items():
                setattr(services, name, wrap(getattr(services, name)))
            return await run_triage(services)

    return run(go())


def alerts(settings: Settings) -> int:
    return len(OutboxChat(settings.path(settings.local.outbox)).entries())


def markers(fake: FakeZendesk, ticket_id: int) -> list[str]:
    return [m.group(1) for note in fake.private_notes(ticket_id) if (m := MARKER.search(note))]


@pytest.mark.parametrize("float_ids", [False, True], ids=["integer-ids", "float-ids"])
@pytest.mark.parametrize("copies", [1, 3], ids=["one-request-per-ticket", "bulk-jobs"])
def test_every_ticket_is_written_back_once_keeping_its_tags_and_a_second_run_writes_nothing(
        settings: Settings, copies: int, float_ids: bool) -> None:
    fake = FakeZendesk()
    fake.float_ids = float_ids  # ids as JSON bridges return them: 106.0
    ids = seed(fake, copies)
    summary = triage(settings, fake)
    assert summary.handled == len(ids) and not summary.failures and summary.review == copies  # "hello ??"
    assert alerts(settings) == len(ids)
    for ticket_id, (_, _, tags) in zip(ids, REQUESTS * copies, strict=True):
        stored = fake.tickets[ticket_id]
        assert len(markers(fake, ticket_id)) == 1, f"ticket {ticket_id} has {fake.private_notes(ticket_id)}"
        assert tuple(stored["tags"][:len(tags)]) == tags and "triaged_by_agent" in stored["tags"]
        category = next((t.split(":", 1)[1] for t in stored["tags"] if t.startswith("auto_category:")), None)
        fields = {f["id"]: f["value"] for f in stored.get("custom_fields") or ()}
        if category:  # the configured ticket field carries the same category as the tag
            assert fields[360001] == category
        else:  # sent to review: no guessed category in tags or fields
            assert "frontline-review" in stored["tags"] and fields.get(360001) is None
    assert fake.tickets[ids[0]]["priority"] == "urgent"  # locked out (P1), raised to P0: Acme is enterprise
    assert fake.tickets[ids[1]]["priority"] == "high"  # double charge (P1) for a starter customer
    solved = next(t for t, stored in fake.tickets.items() if stored["status"] == "solved")
    assert fake.private_notes(solved) == [] and fake.tickets[solved]["tags"] == []
    bulk = fake.sent("PUT", r".*/tickets/update_many")
    assert (len(bulk) > 0) is (copies > 1)
    assert fake.violations == [] and fake.unknown == []

    writes = len([r for r in fake.requests if r.method == "PUT"])
    again = triage(settings, fake)
    assert again.handled == 0 and not again.failures
    assert len([r for r in fake.requests if r.method == "PUT"]) == writes
    assert all(len(fake.private_notes(t)) == 1 for t in ids) and alerts(settings) == len(ids)


def test_a_ticket_zendesk_refused_is_retried_next_run_and_the_others_are_not_rewritten(settings: Settings) -> None:
    fake = FakeZendesk()
    ids = seed(fake, copies=3)  # a backlog: bulk jobs
    fake.reject(ids[6], "Priority: is invalid")
    first = triage(settings, fake)
    assert [failure[0] for failure in first.failures] == [str(ids[6])]
    assert "Priority: is invalid" in first.failures[0][1]
    assert fake.private_notes(ids[6]) == []
    second = triage(settings, fake)
    assert second.handled == 1 and not second.failures
    assert all(len(fake.private_notes(t)) == 1 for t in ids)
    assert alerts(settings) == len(ids)  # the retried ticket was not alerted twice


def test_a_new_ticket_after_a_run_is_the_only_one_handled_next(settings: Settings) -> None:
    fake = FakeZendesk()
    ids = seed(fake)
    triage(settings, fake)
    customer = fake.tickets[ids[0]]["requester_id"]
    late = fake.add_ticket("Invoice missing", "Where is my invoice for March?", requester_id=customer)
    summary = triage(settings, fake)
    assert summary.handled == 1 and len(fake.private_notes(late)) == 1
    assert all(len(fake.private_notes(t)) == 1 for t in ids)


@pytest.mark.parametrize("listed", [{"id": "abc"}, "not a ticket"], ids=["bad-id", "not-an-object"])
def test_a_listed_ticket_that_cannot_be_read_fails_the_run_by_name_and_is_listed_again(
        settings: Settings, listed: Any) -> None:
    fake = FakeZendesk()
    fake.float_ids = True
    ids = seed(fake)
    fake.garble(ids[2], listed)
    first = triage(settings, fake)
    named = "abc" if isinstance(listed, dict) else "position"
    assert first.handled == len(ids) - 1 and len(first.failures) == 1
    assert named in first.failures[0][0] and "next run" in first.failures[0][1]
    assert fake.private_notes(ids[2]) == [] and alerts(settings) == len(ids) - 1
    # The cursor stayed before it: the next run lists it again, and the others are not redone.
    second = triage(settings, fake)
    assert second.handled == 0 and len(second.failures) == 1 and named in second.failures[0][0]
    fake.garble(ids[2], None)  # readable again (Zendesk, or the proxy, fixed)
    third = triage(settings, fake)
    assert third.handled == 1 and not third.failures
    assert all(len(markers(fake, t)) == 1 for t in ids) and alerts(settings) == len(ids)
    assert fake.violations == [] and fake.unknown == []


class DiesAfterWriting:
    """Writes through the real adapter, then the process dies before the ledger hears of it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name

    async def write_back(self, updates: Sequence[WriteBack]) -> list[WriteResult]:
        await self.inner.write_back(updates)
        raise Crash()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Crash(BaseException):
    """Stands in for the process dying."""


def test_a_crash_after_the_write_is_reconciled_by_the_note_marker(settings: Settings) -> None:
    fake = FakeZendesk()
    ids = seed(fake)
    with pytest.raises(Crash):
        triage(settings, fake, helpdesk=DiesAfterWriting)
    summary = triage(settings, fake)
    assert summary.handled == len(ids) and not summary.failures
    assert Counter(len(fake.private_notes(t)) for t in ids) == Counter({1: len(ids)})
    assert fake.sent("GET", r".*/tickets/\d+/comments")  # the marker was looked for, then found
