"""Escalation on the real stack: Intercom → Linear → Slack → back to Intercom, against the fakes.

Also the webhook path end to end: a signed Intercom notification recorded by the web app,
processed by the background worker, racing the poller, escalated once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontline.config import Settings, load_settings
from frontline.connectors.local.tracker import LocalTracker
from frontline.engine.consumer import Consumer
from frontline.engine.fetcher import Lane
from frontline.engine.services import open_flow
from frontline.flows import registry
from frontline.flows.escalate import EscalateRun, EscalationSummary
from frontline.store.inbox import Inbox
from frontline.store.state import StateStore
from frontline.web.app import WebApp
from frontline.web.signatures import sign_intercom
from tests.fakes.base import FakeAPI, serve
from tests.fakes.intercom import TOKEN, FakeIntercom
from tests.fakes.linear import API_KEY, FakeLinear
from tests.fakes.slack import SlackFake
from tests.helpers import make_settings, run

SECRET = "intercom-client-secret"
CONFIG = """
[classifier]
kind = "rules"
[connectors]
conversations = "intercom"
tracker = "linear"
chat = "slack"
[intercom]
settle_seconds = 0
[slack]
channel_interval_seconds = 0
[escalation.projects]
billing = "Billing escalations"
"""


class Stack:
    """Intercom with a few conversations, Linear with a team and a project, Slack with the channels."""

    def __init__(self) -> None:
        self.intercom = FakeIntercom()
        self.linear = FakeLinear()
        self.slack = SlackFake()
        team = self.linear.add_team("SUP", "Support")
        self.linear.add_project("Billing escalations", teams=[team])
        for name in ("customer-support", "support-engineering", "support-triage"):
            self.slack.add_channel(name)
        big = self.intercom.add_company("Bigco", plan="enterprise", monthly_spend=9000, lifecycle="renewal-due")
        small = self.intercom.add_company("Tinyco", plan="starter", monthly_spend=40)
        ann = self.intercom.add_contact("Ann Angry", "ann@bigco.example", company=big)
        tim = self.intercom.add_contact("Tim Calm", "tim@tinyco.example", company=small)
        self.angry = self.intercom.add_conversation(ann, [
            ("customer", "We were charged twice for November."), ("admin", "Sorry! Looking into it."),
            ("customer", "Still no answer. This is unacceptable, refund us or we cancel.")], title="Double charge")
        self.calm = self.intercom.add_conversation(tim, [
            ("customer", "How do I cancel an invitation I sent by mistake?"), ("admin", "Team → Invitations."),
            ("customer", "Found it, thanks!")], title="Invitations")

    @property
    def fakes(self) -> tuple[FakeAPI, ...]:
        return self.intercom, self.linear, self.slack

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            fake: FakeAPI = self.linear if request.url.host == "api.linear.app" else self.intercom
            return fake.handle(request)

        return httpx.MockTransport(handle)


@pytest.fixture
def stack() -> Iterator[Stack]:
    fakes = Stack()
    yield fakes
    for fake in fakes.fakes:
        assert fake.violations == [] and fake.unknown == [], fake.service


@pytest.fixture
def settings(workspace: Path, stack: Stack) -> Iterator[Settings]:
    with serve(stack.slack) as slack:
        make_settings(workspace, CONFIG)
        yield load_settings(workspace / "frontline.toml", dotenv=None, environ={
            "INTERCOM_ACCESS_TOKEN": TOKEN, "LINEAR_API_KEY": API_KEY, "LINEAR_TEAM_ID": "SUP",
            "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_BASE_URL": f"{slack}/api", "INTERCOM_CLIENT_SECRET": SECRET})


def escalate(settings: Settings, stack: Stack) -> EscalationSummary:
    async def go() -> EscalationSummary:
        async with httpx.AsyncClient(transport=stack.transport()) as http, \
                open_flow("escalate", settings, http=http) as services:
            return await EscalateRun(services).run()

    return run(go())


def test_an_escalation_files_a_linear_issue_alerts_slack_and_notes_intercom_once(settings: Settings,
                                                                                   stack: Stack) -> None:
    summary = escalate(settings, stack)
    assert summary.escalated == 1 and not summary.failures and summary.problems == 0
    [issue] = stack.linear.issues.values()
    assert issue.priority == 1 and "Bigco" in issue.title and "enterprise" in issue.description
    assert "keywords" in issue.description and issue.project is not None  # billing → its project
    [alert] = stack.slack.posted("customer-support")
    assert "URGENT" in alert["text"] and issue.identifier in json.dumps(alert["blocks"])
    [note] = stack.intercom.notes(stack.angry)
    assert issue.identifier in note and "#customer-support" in note
    assert stack.intercom.seen_by_customer(stack.angry) == stack.intercom.seen_by_customer(stack.angry)
    assert stack.intercom.notes(stack.calm) == []
    again = escalate(settings, stack)
    assert again.escalated == 0 and len(stack.linear.issues) == 1 and len(stack.slack.all_posted()) == 1
    assert len(stack.intercom.notes(stack.angry)) == 1


def issues(settings: Settings, stack: Stack, tracker: str) -> list[str]:
    """The descriptions of the issues the tracker holds."""
    if tracker == "linear":
        return [issue.description for issue in stack.linear.issues.values()]
    return [issue.body for issue in LocalTracker.from_settings(settings).list_issues()]


@pytest.mark.parametrize("tracker", ["linear", "local"])
def test_conversations_listed_with_float_ids_are_each_escalated_once_and_not_again(
        settings: Settings, stack: Stack, tracker: str) -> None:
    stack.intercom.float_ids = True  # every id as JSON bridges return it: 7005.0
    tim = stack.intercom.conversations[stack.calm]["contacts"]["contacts"][0]["id"]
    furious = stack.intercom.add_conversation(tim, [
        ("customer", "The export is broken again."), ("admin", "Checking."),
        ("customer", "This is unacceptable, we will cancel and ask for a refund.")], title="Export broken")
    settings = settings.model_copy(update={"connectors": settings.connectors.model_copy(update={"tracker": tracker})})
    summary = escalate(settings, stack)
    assert summary.escalated == 2 and not summary.failures
    filed = issues(settings, stack, tracker)
    assert len(filed) == 2 and len(stack.slack.all_posted()) == 2
    for conversation in (stack.angry, furious):  # each issue links its conversation by its integer id
        assert len(stack.intercom.notes(conversation)) == 1
        assert sum(f"/conversation/{conversation})" in d for d in filed) == 1, filed
    assert stack.intercom.notes(stack.calm) == []
    again = escalate(settings, stack)
    assert again.escalated == 0 and not again.failures
    assert len(issues(settings, stack, tracker)) == 2 and len(stack.slack.all_posted()) == 2
    assert [len(stack.intercom.notes(c)) for c in (stack.angry, furious)] == [1, 1]


@pytest.mark.parametrize("listed", [{"id": "abc"}, "not a conversation"], ids=["bad-id", "not-an-object"])
def test_a_listed_conversation_that_cannot_be_read_fails_the_run_by_name_and_is_listed_again(
        settings: Settings, stack: Stack, listed: Any) -> None:
    stack.intercom.float_ids = True
    stack.intercom.garble(stack.calm, listed)
    first = escalate(settings, stack)
    named = "abc" if isinstance(listed, dict) else "position"
    assert first.escalated == 1 and len(first.failures) == 1 and named in first.failures[0][0]
    assert "next run" in first.failures[0][1]
    second = escalate(settings, stack)  # the cursor stayed before it: listed (and reported) again
    assert second.escalated == 0 and len(second.failures) == 1 and named in second.failures[0][0]
    assert len(stack.linear.issues) == 1 and len(stack.intercom.notes(stack.angry)) == 1


def test_vendor_rate_limits_and_errors_are_retried(settings: Settings, stack: Stack) -> None:
    stack.intercom.rate_limit(reset_in=0)
    stack.intercom.fail(503, on="POST .*/reply")
    stack.linear.rate_limit(reset_in=0)
    stack.slack.fail(429, headers={"Retry-After": "0"})
    summary = escalate(settings, stack)
    assert summary.escalated == 1 and not summary.failures
    assert len(stack.linear.issues) == 1 and len(stack.slack.all_posted()) == 1
    assert len(stack.intercom.notes(stack.angry)) == 1


def test_missing_company_permission_is_stated_in_the_priority(settings: Settings, stack: Stack) -> None:
    stack.intercom.forbid_companies(403)
    escalate(settings, stack)
    [note] = stack.intercom.notes(stack.angry)
    assert "P1: no company data" in note and "Read and list users and companies" in note


def test_a_webhook_delivery_and_the_poller_racing_escalate_once(settings: Settings, stack: Stack) -> None:
    store = StateStore.open(settings.state_url)
    app = WebApp(settings, Inbox(store.engine))
    body = json.dumps({"type": "notification_event", "id": "notif_9", "topic": "conversation.user.replied",
                       "data": {"item": {"type": "conversation", "id": stack.angry}}}).encode()

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://frontline") as web:
            answer = await web.post("/webhooks/intercom", content=body,
                                    headers={"x-hub-signature": sign_intercom(SECRET, body)})
            assert answer.status_code == 200
            again = await web.post("/webhooks/intercom", content=body,
                                   headers={"x-hub-signature": sign_intercom(SECRET, body)})
            assert again.json()["duplicate"] is True
        async with httpx.AsyncClient(transport=stack.transport()) as http, \
                open_flow("escalate", settings, http=http) as webhook, \
                open_flow("escalate", settings, http=http) as poller:
            deliveries = app.inbox.lease("worker")
            assert len(deliveries) == 1
            consumer = Consumer(store, app.inbox, "worker")
            lane = Lane(webhook.flow, registry.flow("escalate"), webhook)
            await asyncio.gather(consumer.process(lane, deliveries), EscalateRun(poller).run())
            # Had the poller held the conversation at that moment, the entry was given back: it settles next.
            for _ in range(100):
                if app.inbox.depth()["waiting"] == 0:
                    break
                await consumer.process(lane, app.inbox.lease("worker"))
                await asyncio.sleep(0.05)

    run(go())
    assert len(stack.linear.issues) == 1 and len(stack.slack.all_posted()) == 1
    assert len(stack.intercom.notes(stack.angry)) == 1
    assert app.inbox.depth() == {"waiting": 0, "dead": 0}
    store.close()


def test_doctor_checks_intercom_and_linear(settings: Settings, stack: Stack) -> None:
    from frontline.doctor import diagnose

    async def go() -> list[Any]:
        async with httpx.AsyncClient(transport=stack.transport()) as http:
            return await diagnose(settings, http=http)

    checks = {c.connector: c for c in run(go())}
    assert checks["conversations intercom"].ok and "Ada Admin" in checks["conversations intercom"].detail
    linear = [c for name, c in checks.items() if name.startswith("tracker linear")]
    assert linear and all(c.ok for c in linear)
