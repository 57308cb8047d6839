"""The escalate flow on the embedded default: one issue, one alert, one note per escalation, whatever happens."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from frontline.config import Settings
from frontline.connectors.local.conversations import LocalConversations
from frontline.connectors.local.outbox import OutboxChat
from frontline.connectors.local.tracker import LocalTracker
from frontline.engine.services import open_flow
from frontline.errors import ChannelRefusedError, UnavailableError
from frontline.flows.escalate import EscalateRun, EscalateServices, EscalationSummary
from frontline.model import ChatMessage, IssueDraft, IssueRef
from frontline.store.state import StateStore
from tests.helpers import make_settings, run

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def at(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).isoformat()


def thread(conversation_id: str, *messages: tuple[str, str, float], state: str = "open",
           company: dict[str, Any] | None = None) -> dict[str, Any]:
    """A conversation from (author, text, hours ago) messages; kind follows the author."""
    parts = [{"author": "agent" if who in ("note", "close") else "customer" if who == "open" else who,
              "kind": who if who in ("note", "close", "open") else "comment", "body": text, "created_at": at(ago)}
             for who, text, ago in messages]
    return {"id": conversation_id, "title": f"Conversation {conversation_id}", "state": state,
            "created_at": at(messages[0][2]), "contact": {"name": "Ann", "email": "ann@acme.example"},
            "company": company if company is not None else {"name": "Acme", "plan": "starter", "mrr": 49},
            "parts": parts}


ANGRY = thread("c1", ("customer", "The export is broken again.", 30), ("agent", "Looking into it!", 29),
               ("customer", "This is unacceptable, I want a refund or I'm cancelling.", 2),
               company={"name": "Bigco", "plan": "enterprise", "mrr": 9000, "lifecycle": "renewal-due"})
CALM = thread("c2", ("customer", "How do I cancel an invitation I sent by mistake?", 1),
              ("agent", "Open Team, then Invitations.", 0.5))
AGENT_ONLY = thread("c3", ("customer", "Can you add dark mode?", 3),
                    ("note", "Customer sounds frustrated, may cancel", 2), ("agent", "Noted, thanks!", 2))
NO_COMPANY = thread("c4", ("customer", "Worst support ever. I need a manager now, this is ridiculous.", 5),
                    company={})


@pytest.fixture
def settings(workspace: Path) -> Settings:
    """Rules classifier, the embedded conversations, tracker and outbox."""
    return make_settings(workspace, '[classifier]\nkind = "rules"\n')


def seed(settings: Settings, *records: dict[str, Any]) -> LocalConversations:
    source = LocalConversations.from_settings(settings)
    from frontline.connectors.local.conversations import normalise_conversation

    source.upsert([normalise_conversation(r) for r in records])
    return source


def escalate(settings: Settings, *, now: datetime = NOW, dry_run: bool = False,
             wrap: Callable[[EscalateServices], None] | None = None) -> EscalationSummary:
    async def go() -> EscalationSummary:
        async with open_flow("escalate", settings, echo=lambda line: None) as services:
            if wrap is not None:
                wrap(services)
            return await EscalateRun(services, dry_run=dry_run, now=lambda: now).run()

    return run(go())


def issues(settings: Settings) -> list[Any]:
    return LocalTracker.from_settings(settings).list_issues()


def alerts(settings: Settings) -> list[dict[str, Any]]:
    return OutboxChat(settings.path(settings.local.outbox)).entries()


def test_escalations_get_one_issue_one_alert_and_one_note_across_runs(settings: Settings) -> None:
    source = seed(settings, ANGRY, CALM, AGENT_ONLY, NO_COMPANY)
    first = escalate(settings)
    assert first.escalated == 2 and not first.failures and first.by_priority == Counter({"P0": 1, "P1": 1})
    for _ in range(2):
        again = escalate(settings)
        assert again.escalated == 0 and not again.failures
    assert len(issues(settings)) == 2 and len(alerts(settings)) == 2
    assert len(source.notes("c1")) == 1 and len(source.notes("c4")) == 1
    assert source.notes("c2") == [] and source.notes("c3") == []  # calm, and frustration only in our own note
    p0 = next(a for a in alerts(settings) if a["channel"] == "#customer-support")
    assert "URGENT" in p0["text"] and "Bigco" in p0["text"]
    blocks = str(p0["blocks"])
    assert "enterprise" in blocks and "$9,000" in blocks and "keywords" in blocks and "ESC-" in blocks
    note = source.notes("c1")[0]
    assert "P0" in note and "keywords +0.40" in note and "Issue: ESC-" in note and "#customer-support" in note
    lonely = source.notes("c4")[0]
    assert "P1: no company data (the contact has no company)" in lonely
    issue = issues(settings)[0]
    assert "Bigco" in issue.title and "renewal-due" in issue.body and "keywords" in issue.body


def test_a_tracker_outage_still_alerts_and_notes_and_says_so(settings: Settings) -> None:
    source = seed(settings, ANGRY)

    def broken(services: EscalateServices) -> None:
        async def down(draft: IssueDraft) -> IssueRef:
            raise UnavailableError("Linear", "server error on issueCreate", status=503)

        services.tracker.create_issue = down  # type: ignore[method-assign]

    summary = escalate(settings, wrap=broken)
    assert summary.escalated == 1 and summary.problems == 1
    assert len(alerts(settings)) == 1 and "Issue" not in str(alerts(settings)[0]["blocks"])
    assert "tracker issue not created: Linear: server error on issueCreate (503)" in source.notes("c1")[0]


def test_a_refused_channel_falls_back_and_the_note_says_which(settings: Settings) -> None:
    source = seed(settings, ANGRY)

    def refuse_customer_support(services: EscalateServices) -> None:
        real = services.chat.post

        async def post(channel: str, message: ChatMessage, key: str) -> str:
            if channel == "#customer-support":
                raise ChannelRefusedError("Slack", channel, "not_in_channel", hint="/invite @frontline")
            return await real(channel, message, key)

        services.chat.post = post  # type: ignore[method-assign]

    escalate(settings, wrap=refuse_customer_support)
    assert [a["channel"] for a in alerts(settings)] == ["#support-triage"]
    note = source.notes("c1")[0]
    assert "alert refused in #customer-support (not_in_channel): /invite @frontline" in note
    assert "Alerted in #support-triage" in note


class Killed(BaseException):
    """The process dies right here: nothing after it runs."""


def test_a_crash_between_the_issue_and_the_note_never_files_a_second_issue(settings: Settings) -> None:
    source = seed(settings, ANGRY)

    def die_after_creating(services: EscalateServices) -> None:
        real = services.tracker.create_issue

        async def create(draft: IssueDraft) -> IssueRef:
            await real(draft)
            raise Killed

        services.tracker.create_issue = create  # type: ignore[method-assign]

    with pytest.raises(Killed):
        escalate(settings, wrap=die_after_creating)
    assert len(issues(settings)) == 1 and alerts(settings) == [] and source.notes("c1") == []
    after = escalate(settings)
    assert after.escalated == 1 and not after.failures
    assert len(issues(settings)) == 1 and len(alerts(settings)) == 1 and len(source.notes("c1")) == 1


def test_a_failed_note_is_retried_next_run_without_a_second_issue_or_alert(settings: Settings) -> None:
    source = seed(settings, ANGRY)

    def notes_down(services: EscalateServices) -> None:
        async def add_note(conversation_id: str, body: str, marker: str) -> str:
            raise UnavailableError("Intercom", "timed out")

        services.conversations.add_note = add_note  # type: ignore[method-assign]

    failed = escalate(settings, wrap=notes_down)
    assert failed.escalated == 0 and failed.failures and "note not written" in failed.failures[0][1]
    retried = escalate(settings)
    assert retried.escalated == 1
    assert len(issues(settings)) == 1 and len(alerts(settings)) == 1 and len(source.notes("c1")) == 1


def test_a_reopened_conversation_escalates_again_only_when_configured(workspace: Path) -> None:
    for reescalate, expected in ((False, 1), (True, 2)):
        (workspace / str(reescalate)).mkdir()
        toml = f'[classifier]\nkind = "rules"\n[escalation]\nreescalate = {str(reescalate).lower()}\n'
        settings = make_settings(workspace / str(reescalate), toml)
        source = seed(settings, ANGRY)
        escalate(settings)
        reopened = {**ANGRY, "parts": [*ANGRY["parts"],
                                       {"author": "agent", "kind": "close", "body": "", "created_at": at(1.5)},
                                       {"author": "customer", "kind": "open", "body": "", "created_at": at(1)},
                                       {"author": "customer", "kind": "comment", "created_at": at(1),
                                        "body": "It broke AGAIN. Terrible. Cancel our account."}]}
        seed(settings, reopened)
        escalate(settings)
        assert len(issues(settings)) == expected and len(alerts(settings)) == expected, reescalate
        assert len(source.notes("c1")) == expected


def test_forgetting_a_conversation_escalates_it_again_as_a_new_episode(settings: Settings) -> None:
    source = seed(settings, ANGRY)
    escalate(settings)
    store = StateStore.open(settings.state_url)
    assert store.forget("c1") == 1
    store.close()
    shadow = escalate(settings, dry_run=True)  # shows what the next run will do, as triage's does
    assert shadow.escalated == 1 and len(issues(settings)) == 1
    store = StateStore.open(settings.state_url)
    assert store.requeued("escalate") == ["c1"]  # and leaves it queued
    store.close()
    again = escalate(settings)
    assert again.escalated == 1
    assert len(issues(settings)) == 2 and len(alerts(settings)) == 2 and len(source.notes("c1")) == 2


def test_a_calm_open_conversation_is_watched_until_it_has_been_open_a_day(settings: Settings) -> None:
    waiting = thread("c5", ("customer", "Hi! Could you check our timesheet export for us?", 20),
                     ("customer", "Hello? Still waiting on this.", 1))  # mildly negative: +0.2, below 0.4
    source = seed(settings, waiting)
    assert escalate(settings).escalated == 0
    store = StateStore.open(settings.state_url)
    assert store.due("escalate", NOW) == [] and store.due("escalate", NOW + timedelta(hours=5)) == ["c5"]
    store.close()
    later = escalate(settings, now=NOW + timedelta(hours=5))  # nothing changed in the conversation
    assert later.escalated == 1 and len(source.notes("c5")) == 1
    assert "open 25 h" in source.notes("c5")[0]


def test_dry_run_scores_but_writes_nothing(settings: Settings) -> None:
    source = seed(settings, ANGRY, NO_COMPANY)
    summary = escalate(settings, dry_run=True)
    assert summary.escalated == 2 and summary.dry_run
    assert issues(settings) == [] and alerts(settings) == [] and source.notes("c1") == []
    assert escalate(settings).escalated == 2  # the real run still has everything to do


def test_the_webhook_path_and_the_poller_racing_escalate_once(settings: Settings) -> None:
    source = seed(settings, ANGRY)

    async def race() -> None:
        async with open_flow("escalate", settings, echo=lambda line: None) as poller, \
                open_flow("escalate", settings, echo=lambda line: None) as webhook:
            conversation = await webhook.conversations.get("c1")
            await __import__("asyncio").gather(EscalateRun(poller, now=lambda: NOW).run(),
                                               EscalateRun(webhook, now=lambda: NOW).handle([conversation]),
                                               EscalateRun(webhook, now=lambda: NOW).handle([conversation]))

    run(race())
    assert len(issues(settings)) == 1 and len(alerts(settings)) == 1 and len(source.notes("c1")) == 1


def test_each_conversation_is_counted_once_however_the_pages_fall(workspace: Path) -> None:
    # Small pages: the notes this run writes bring its own escalations back on a later page.
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n[runner]\nbatch_size = 2\n')
    source = seed(settings, ANGRY, CALM, AGENT_ONLY, NO_COMPANY)
    first = escalate(settings)
    assert (first.scored, first.escalated, first.skipped, first.failures) == (4, 2, 0, [])
    assert len(issues(settings)) == 2 and len(alerts(settings)) == 2
    assert len(source.notes("c1")) == 1 and len(source.notes("c4")) == 1
    # One escalated before this run, written to again, is the one "already escalated".
    seed(settings, {**ANGRY, "parts": [*ANGRY["parts"], {"author": "customer", "kind": "comment",
                                                          "body": "Any news?", "created_at": at(1)}]})
    again = escalate(settings)
    assert (again.scored, again.escalated, again.skipped) == (0, 0, 1)
    assert len(issues(settings)) == 2 and len(alerts(settings)) == 2 and len(source.notes("c1")) == 1


def test_a_watched_conversation_that_also_changed_is_scored_once(settings: Settings) -> None:
    patient = thread("c6", ("customer", "Hi! Could you add a dark mode some day? Thanks!", 20))
    seed(settings, patient)
    assert escalate(settings).scored == 1
    more = {"author": "customer", "kind": "comment", "body": "No rush at all, thank you!", "created_at": at(1)}
    seed(settings, {**patient, "parts": [*patient["parts"], more]})
    later = escalate(settings, now=NOW + timedelta(hours=5))  # due for a look, and changed since the last run
    assert (later.scored, later.escalated, later.skipped) == (1, 0, 0)


def test_each_escalation_enters_the_escalation_queue_once(settings: Settings) -> None:
    from frontline.store.escalations import EscalationQueue

    seed(settings, ANGRY, CALM)
    escalate(settings)
    escalate(settings)
    store = StateStore.open(settings.state_url)
    try:
        [entry] = EscalationQueue(store.engine).list()
    finally:
        store.close()
    assert (entry.source, entry.item_id, entry.priority, entry.state, entry.owner) == ("escalate", "c1", "P0",
                                                                                      "open", None)
    assert entry.reason.startswith("score ") and "keywords" in entry.reason
    assert entry.tracker_ref and entry.tracker_ref.startswith("ESC-") and entry.alert_ref
