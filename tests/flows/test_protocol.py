"""The escalation protocol in triage: an urgent ticket gets one tracker issue, an on-call mention and a queue entry.

On the embedded default (outbox, local tracker) and on the real stack's fakes (Linear, Slack), and
exactly once when the run dies between filing the issue and recording it in the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontline.config import Settings, load_settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.outbox import OutboxChat
from frontline.connectors.local.tracker import LocalTracker
from frontline.engine.services import open_flow
from frontline.flows.triage import RunSummary, TriageServices, run_triage
from frontline.model import IssueDraft, IssueRef
from frontline.ports import Tracker
from frontline.store.escalations import EscalationQueue
from frontline.store.state import StateStore
from tests.fakes.base import serve
from tests.fakes.linear import API_KEY, FakeLinear
from tests.fakes.slack import SlackFake
from tests.helpers import make_settings, run

ONCALL = "S0ONCALL1"
ANGRY = ("This is the third time I am asking and still nobody answers. Why is this still not working?! "
         "Absolutely unacceptable.")
TICKETS: list[dict[str, Any]] = [
    {"id": "1", "subject": "Production down", "description": "The whole app is down for all our users",
     "company": "Smallco", "plan": "starter", "mrr": 30.0},
    {"id": "2", "subject": "Recurring tasks", "description": "How do I set up recurring tasks? Thanks!",
     "company": "Bigco", "plan": "enterprise", "mrr": 2000.0},
    {"id": "3", "subject": "Recurring tasks", "description": f"How do I set up recurring tasks? {ANGRY}",
     "company": "Bigco", "plan": "enterprise", "mrr": 2000.0},
    # Not ticket 2's words: an exact repeat would be linked as its duplicate and reply in its thread.
    {"id": "4", "subject": "Export", "description": "How do I export my projects to a CSV file? Thanks!",
     "company": "Freeco", "plan": "free", "mrr": 0.0},
]
URGENT = {"1", "3"}  # a P0 for anyone; a P1 for a high-value customer (enterprise + frustrated how-to)
PROTOCOL = (f'[classifier]\nkind = "rules"\n[escalation_protocol]\noncall = "{ONCALL}"\n'
            'high_value_severities = ["P1"]\n')


class Crash(BaseException):
    """The process dies right after the tracker filed the issue (the ledger never hears of it)."""


class CrashAfterCreate:
    """A tracker that files the issue, then the process dies."""

    def __init__(self, inner: Tracker) -> None:
        self.inner = inner
        self.name = inner.name

    async def find_issue(self, marker: str) -> IssueRef | None:
        return await self.inner.find_issue(marker)

    async def create_issue(self, draft: IssueDraft) -> IssueRef:
        await self.inner.create_issue(draft)
        raise Crash

    async def aclose(self) -> None:
        await self.inner.aclose()


def triage(settings: Settings, *, crash: bool = False) -> RunSummary:
    async def go() -> RunSummary:
        async with open_flow("triage", settings) as services:
            assert isinstance(services, TriageServices) and services.tracker is not None
            if crash:
                services.tracker = CrashAfterCreate(services.tracker)
            return await run_triage(services)

    return run(go())


def entries(settings: Settings) -> dict[str, Any]:
    store = StateStore.open(settings.state_url)
    try:
        return {e.item_id: e for e in EscalationQueue(store.engine).list()}
    finally:
        store.close()


@pytest.fixture
def local(workspace: Path) -> Settings:
    """The embedded default with the on-call group set and the four tickets."""
    settings = make_settings(workspace, PROTOCOL)
    LocalHelpdesk.from_settings(settings).upsert(TICKETS)
    return settings


def test_urgent_tickets_get_an_issue_a_mention_and_a_queue_entry_and_the_rest_nothing(local: Settings) -> None:
    summary = triage(local)
    assert summary.handled == 4 and not summary.failures
    issues = LocalTracker.from_settings(local).list_issues()
    assert sorted(i.title.split("]")[0] for i in issues) == ["[P0", "[P1"]
    found = entries(local)
    assert set(found) == URGENT
    assert {(e.source, e.priority, e.state, e.owner) for e in found.values()} == {("triage", "P0", "open", None),
                                                                                ("triage", "P1", "open", None)}
    assert "high-value customer" in found["3"].reason
    assert all(e.tracker_ref and e.tracker_ref.startswith("ESC-") and e.alert_ref for e in found.values())
    alerts = {e["text"].split("#", 2)[-1].split()[0]: e for e in OutboxChat(local.path(local.local.outbox)).entries()}
    for ticket in "1234":
        mentioned = alerts[ticket]["text"].startswith(f"<!subteam^{ONCALL}>")
        assert mentioned == (ticket in URGENT), ticket
    [note] = LocalHelpdesk.from_settings(local).notes("3")
    assert "escalation protocol: P1 ticket from a high-value customer" in note["body"]
    assert "business impact raised P3 → P1" in note["body"]


def test_an_urgent_ticket_triaged_again_keeps_its_one_issue_and_queue_entry(local: Settings) -> None:
    triage(local)
    LocalHelpdesk.from_settings(local).upsert([{**TICKETS[0], "description": "Still down for everyone!"}])
    summary = triage(local)  # the changed ticket is triaged again, in a new episode
    assert summary.handled == 1 and not summary.failures
    assert len(entries(local)) == 2
    assert len(LocalTracker.from_settings(local).list_issues()) == 2


def test_a_crash_between_the_issue_and_the_ledger_files_it_once(local: Settings) -> None:
    with pytest.raises(Crash):
        triage(local, crash=True)
    assert len(LocalTracker.from_settings(local).list_issues()) >= 1
    summary = triage(local)
    assert summary.handled == 4 and not summary.failures
    issues = LocalTracker.from_settings(local).list_issues()
    assert len(issues) == 2 and len({i.marker for i in issues}) == 2
    assert set(entries(local)) == URGENT


def test_by_default_only_p0_is_urgent_and_no_oncall_group_means_no_mention(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    LocalHelpdesk.from_settings(settings).upsert(TICKETS)
    triage(settings)
    texts = [e["text"] for e in OutboxChat(settings.path(settings.local.outbox)).entries()]
    assert not any("subteam" in text for text in texts)
    assert set(entries(settings)) == {"1"}
    assert len(LocalTracker.from_settings(settings).list_issues()) == 1


def test_a_disabled_protocol_does_nothing(workspace: Path) -> None:
    settings = make_settings(workspace, PROTOCOL + "enabled = false\n")
    LocalHelpdesk.from_settings(settings).upsert(TICKETS)
    triage(settings)
    assert entries(settings) == {} and LocalTracker.from_settings(settings).list_issues() == []


# -- the real stack's fakes: Linear for the issue, Slack for the alert ---------------------------------
class Stack:
    """Linear with one team; Slack with the triage channels."""

    def __init__(self) -> None:
        self.linear = FakeLinear()
        self.linear.add_team("SUP", "Support")
        self.slack = SlackFake()
        for name in ("engineering", "billing", "product-feedback", "support-triage"):
            self.slack.add_channel(name)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.linear.handle))


@pytest.fixture
def stack() -> Iterator[Stack]:
    fakes = Stack()
    yield fakes
    for fake in (fakes.linear, fakes.slack):
        assert fake.violations == [] and fake.unknown == [], fake.service


@pytest.fixture
def remote(workspace: Path, stack: Stack) -> Iterator[Settings]:
    """Linear as the tracker (over the mock transport), Slack as the chat (over a loopback socket)."""
    with serve(stack.slack) as slack:
        make_settings(workspace, PROTOCOL + '[connectors]\ntracker = "linear"\nchat = "slack"\n'
                                            '[slack]\nchannel_interval_seconds = 0\n')
        settings = load_settings(workspace / "frontline.toml", dotenv=None, environ={
            "LINEAR_API_KEY": API_KEY, "LINEAR_TEAM_ID": "SUP", "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_BASE_URL": f"{slack}/api"})
        LocalHelpdesk.from_settings(settings).upsert(TICKETS)
        yield settings


def triage_remote(settings: Settings, stack: Stack, *, crash: bool = False) -> RunSummary:
    async def go() -> RunSummary:
        async with stack.client() as http, open_flow("triage", settings, http=http) as services:
            assert isinstance(services, TriageServices) and services.tracker is not None
            if crash:
                services.tracker = CrashAfterCreate(services.tracker)
            return await run_triage(services)

    return run(go())


def test_on_linear_and_slack_the_urgent_alert_mentions_oncall_and_links_the_issue(remote: Settings,
                                                                                  stack: Stack) -> None:
    summary = triage_remote(remote, stack)
    assert summary.handled == 4 and not summary.failures
    issues = list(stack.linear.issues.values())
    assert len(issues) == 2
    assert {issue.priority for issue in issues} == {1.0, 2.0}  # P0 urgent, P1 high
    mentioned = [m for m in stack.slack.all_posted() if f"!subteam^{ONCALL}" in SlackFake.pings(m)]
    assert len(mentioned) == 2 and len(stack.slack.all_posted()) == 4
    for message in mentioned:
        assert any(issue.identifier in str(message["blocks"][0]) for issue in issues)
    assert all(e.tracker_ref and e.tracker_ref.startswith("SUP-") for e in entries(remote).values())


def test_on_linear_a_crash_between_the_issue_and_the_ledger_files_it_once(remote: Settings, stack: Stack) -> None:
    with pytest.raises(Crash):
        triage_remote(remote, stack, crash=True)
    assert len(stack.linear.issues) >= 1
    summary = triage_remote(remote, stack)
    assert summary.handled == 4 and not summary.failures
    assert len(stack.linear.issues) == 2
    assert set(entries(remote)) == URGENT
    alerted = [m for m in stack.slack.all_posted() if f"!subteam^{ONCALL}" in SlackFake.pings(m)]
    assert len(alerted) == 2
