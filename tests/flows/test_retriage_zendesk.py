"""Re-triage on Zendesk: the requester's new comment is told apart by the listing's metric set, the thread read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from frontline.config import Settings, load_settings
from frontline.connectors.local.outbox import OutboxChat
from tests.fakes.zendesk import FakeZendesk
from tests.flows.test_triage_zendesk import CONFIG, ENV, triage
from tests.helpers import make_settings


@pytest.fixture
def settings(workspace: Path) -> Settings:
    """Rules classifier, Zendesk helpdesk (acme.zendesk.com), local KB and outbox chat."""
    make_settings(workspace, CONFIG)
    return load_settings(workspace / "frontline.toml", environ=ENV, dotenv=None)


DATA_LOSS = "The export crashed and now all our data is gone. Data loss in production, nobody can work!"


def posts(settings: Settings) -> list[dict[str, Any]]:
    return OutboxChat(settings.path(settings.local.outbox)).entries()


def reads(fake: FakeZendesk, ticket: int) -> int:
    """Requests that read the ticket or its comments on their own (not the export)."""
    return sum(1 for r in fake.requests if r.method == "GET" and r.url.path.startswith(f"/api/v2/tickets/{ticket}"))


def handled(fake: FakeZendesk, settings: Settings) -> int:
    org = fake.add_organization("Tiny", plan="starter", mrr="20")
    user = fake.add_user("Tim Tiny", "tim@tiny.example", organization_id=org)
    ticket = fake.add_ticket("Export question", "How do I export my projects to CSV?", requester_id=user)
    assert triage(settings, fake).by_severity["P3"] == 1
    return ticket


def test_the_requesters_new_comment_is_retriaged_and_replied_in_the_thread(settings: Settings) -> None:
    fake = FakeZendesk()
    ticket = handled(fake, settings)
    fake.customer_reply(ticket, DATA_LOSS)
    summary = triage(settings, fake)
    assert (summary.retriaged, summary.failures) == (1, [])
    alert, reply = posts(settings)
    assert reply["thread_ts"] == alert["ts"] and "Severity P3 → P0" in reply["text"]
    notes = [n for n in fake.private_notes(ticket) if "re-triage" in n]
    assert len(notes) == 1 and "Severity P3 → P0" in notes[0]
    tags = fake.tickets[ticket]["tags"]
    assert "auto_severity:P0" in tags and "auto_severity:P3" not in tags
    assert fake.tickets[ticket]["priority"] == "urgent"
    again = triage(settings, fake)  # the write-back listed it again: nothing new from the customer
    assert (again.retriaged, again.rechecked) == (0, 0)
    assert len(posts(settings)) == 2 and len([n for n in fake.private_notes(ticket) if "re-triage" in n]) == 1


def test_an_agents_reply_costs_no_request_and_an_unchanged_decision_writes_nothing(
        settings: Settings) -> None:
    fake = FakeZendesk()
    ticket = handled(fake, settings)
    triage(settings, fake)  # its own write-back listed it again
    fake.reply(ticket, "Data loss? Nobody can work? Production is down!")
    before = reads(fake, ticket)
    summary = triage(settings, fake)
    assert (summary.retriaged, summary.rechecked, summary.skipped) == (0, 0, 1)
    assert reads(fake, ticket) == before  # the metric set said the requester wrote nothing: no thread read
    fake.customer_reply(ticket, "Thanks, could you send me the link to the page?")
    summary = triage(settings, fake)
    assert (summary.retriaged, summary.rechecked) == (0, 1)
    assert len(posts(settings)) == 1 and len(fake.private_notes(ticket)) == 1
