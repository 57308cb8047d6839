"""What the SIGKILL crash tests found, pinned down one by one (fast, in process).

- An escalation claim left by a killed process blocked its conversations for the whole lease, and
  the poller counted them done and moved its cursor past them: they were never escalated.
- Slack crash recovery only read the triage channels, so an escalation alert posted just before a
  kill was posted again.
- A Zendesk bulk job submitted just before a kill ran after the restarted run had looked for its
  note and found none, so the note was written twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from frontline.config import Settings, load_settings
from frontline.connectors.local.conversations import LocalConversations, normalise_conversation
from frontline.connectors.slack.chat import SlackChat
from frontline.connectors.zendesk import ZendeskHelpdesk
from frontline.credentials import open_credentials
from frontline.engine.services import open_flow
from frontline.flows.escalate import EscalateRun, EscalationSummary
from frontline.model import ChatMessage, WriteBack
from frontline.runtime import owners
from frontline.store.state import StateStore
from tests.fakes.base import serve
from tests.fakes.slack import SlackFake
from tests.fakes.zendesk import ADMIN_EMAIL, ADMIN_TOKEN, FakeZendesk
from tests.helpers import make_settings, run

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _angry(conversation_id: str) -> dict[str, Any]:
    def at(hours: float) -> str:
        return (NOW - timedelta(hours=hours)).isoformat()

    return {"id": conversation_id, "title": "Double charge", "state": "open", "created_at": at(30),
            "contact": {"name": "Ann", "email": "ann@bigco.example"},
            "company": {"name": "Bigco", "plan": "enterprise", "mrr": 9000},
            "parts": [{"author": "customer", "kind": "comment", "body": "We were charged twice.", "created_at": at(30)},
                      {"author": "agent", "kind": "comment", "body": "Looking into it!", "created_at": at(29)},
                      {"author": "customer", "kind": "comment", "created_at": at(1),
                       "body": "Still no answer. This is unacceptable, refund us or we cancel."}]}


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()  # reaped: the pid names no process now
    return process.pid


def _escalate(settings: Settings) -> EscalationSummary:
    async def go() -> EscalationSummary:
        async with open_flow("escalate", settings, echo=lambda line: None) as services:
            return await EscalateRun(services, now=lambda: NOW).run()

    return run(go())


@pytest.fixture
def conversations(settings: Settings) -> LocalConversations:
    """Two conversations that escalate, in the embedded source."""
    source = LocalConversations.from_settings(settings)
    source.upsert([normalise_conversation(_angry("c1")), normalise_conversation(_angry("c2"))])
    return source


# -- claims --------------------------------------------------------------------------------------------
def test_an_owner_id_tells_a_dead_process_of_this_machine_from_a_live_or_unknown_one() -> None:
    me = owners.this_process("run")
    host, namespace, pid, _ = me.split(":")
    assert pid == str(os.getpid()) and not owners.gone(me)
    assert owners.gone(f"{host}:{namespace}:{_dead_pid()}:run")
    assert not owners.gone(f"{host}:{namespace}:{os.getppid()}:run")  # alive
    assert not owners.gone(f"another-host:{namespace}:{_dead_pid()}:run")  # cannot tell: the lease decides
    assert not owners.gone(f"{host}:not-this-namespace:{_dead_pid()}:run")
    assert not owners.gone("an-owner-id-of-another-shape")


def test_a_claim_left_by_a_killed_process_is_taken_over_at_once(settings: Settings,
                                                                 conversations: LocalConversations) -> None:
    store = StateStore.open(settings.state_url)
    host, namespace, _, _ = owners.this_process("x").split(":")
    store.claim("escalate", "c1", f"{host}:{namespace}:{_dead_pid()}:1234", seconds=300)
    summary = _escalate(settings)
    assert summary.escalated == 2 and summary.busy == 0 and not summary.failures
    assert store.handled_among("escalate", ["c1", "c2"]) == {"c1", "c2"}
    store.close()


def test_a_conversation_held_by_a_live_worker_keeps_the_cursor_behind_it(settings: Settings,
                                                                       conversations: LocalConversations) -> None:
    store = StateStore.open(settings.state_url)
    store.claim("escalate", "c1", "worker-7.example:4026531836:4242:1", seconds=300)  # alive, elsewhere
    first = _escalate(settings)
    assert first.escalated == 1 and first.busy == 1
    assert store.handled_among("escalate", ["c1", "c2"]) == {"c2"}
    # The holder never finished (it died on another machine): once its lease is over, c1 is not lost.
    store.release("escalate", "c1", "worker-7.example:4026531836:4242:1")
    second = _escalate(settings)
    assert second.escalated == 1 and second.skipped == 1
    assert store.handled_among("escalate", ["c1", "c2"]) == {"c1", "c2"}
    store.close()


# -- Slack ---------------------------------------------------------------------------------------------
def test_slack_recovery_finds_an_escalation_alert_posted_before_a_kill(workspace: Path) -> None:
    slack = SlackFake()
    for name in ("engineering", "billing", "product-feedback", "support-triage", "customer-support",
                 "support-engineering"):
        slack.add_channel(name)
    alert = ChatMessage(text="URGENT escalation", blocks=())
    key = "fl-00000000000000000001"
    make_settings(workspace, "[slack]\nchannel_interval_seconds = 0\n")
    with serve(slack) as base:
        settings = load_settings(workspace / "frontline.toml", dotenv=None,
                                 environ={"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_BASE_URL": f"{base}/api"})

        async def post_then_recover() -> tuple[str, str | None]:
            before = SlackChat.from_settings(settings, credentials=open_credentials(settings))
            after = SlackChat.from_settings(settings, credentials=open_credentials(settings))
            try:
                posted = await before.post("#customer-support", alert, key)  # then the process dies
                return posted, await after.find_posted(key)
            finally:
                await before.aclose()
                await after.aclose()

        posted, found = run(post_then_recover())
    assert found == posted
    assert slack.violations == [] and slack.unknown == []


# -- Zendesk -------------------------------------------------------------------------------------------
def test_a_bulk_job_left_queued_by_a_killed_run_is_waited_for_before_the_marker_check(workspace: Path) -> None:
    fake = FakeZendesk()
    requester = fake.add_user("Ann", "ann@acme.example")
    tickets = [fake.add_ticket(f"Ticket {n}", "It broke", requester_id=requester) for n in range(3)]
    make_settings(workspace, "[zendesk]\nbulk_threshold = 2\n")
    settings = load_settings(workspace / "frontline.toml", dotenv=None, environ={
        "ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": ADMIN_EMAIL, "ZENDESK_API_TOKEN": ADMIN_TOKEN})

    def update(ticket: int) -> WriteBack:
        marker = f"fl-{ticket:020d}"
        return WriteBack(ticket_id=str(ticket), add_tags=("triaged_by_agent",), priority="high",
                         note=f"frontline triage\n[{marker}]", marker=marker)

    async def killed_then_restarted() -> list[str | None]:
        async with fake.client() as http:
            killed = ZendeskHelpdesk.from_settings(settings, http=http, credentials=open_credentials(settings))
            await killed._submit({"tickets": [{"id": t, "comment": {"body": update(t).note, "public": False},
                                               "additional_tags": ["triaged_by_agent"]} for t in tickets]})
            # ... the process dies before polling; Zendesk still holds the job. The restarted run looks:
            restarted = ZendeskHelpdesk.from_settings(settings, http=http, credentials=open_credentials(settings))
            return [await restarted.find_marker(str(t), update(t).marker) for t in tickets]

    found = run(killed_then_restarted())
    assert all(ref is not None for ref in found), found
    assert [len(fake.private_notes(t)) for t in tickets] == [1, 1, 1]
    assert fake.violations == [] and fake.unknown == []
