"""Triage with the Slack chat: embedded helpdesk and KB, alerts to the fake Slack over loopback sockets."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontline.config import Settings, load_settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.engine.services import open_flow
from frontline.flows.triage import RunSummary, TriageServices, run_triage
from frontline.model import ChatMessage
from tests.fakes.base import serve
from tests.fakes.slack import SlackFake
from tests.helpers import make_settings, run

TICKETS: list[dict[str, Any]] = [
    {"id": "1", "subject": "Cannot log in", "description": "I forgot my password and I'm locked out of my account",
     "company": "Acme", "plan": "enterprise", "mrr": 9000.0},
    {"id": "2", "subject": "Charged twice", "description": "Our invoice shows a double charge on the credit card"},
    {"id": "3", "subject": "hello", "description": "??"},
    {"id": "4", "subject": "Export crashes", "description": "The CSV export crashes with an error every time"},
    {"id": "5", "subject": "Idea", "description": "Feature request: it would be great to have dark mode"},
]
ROUTED = {"1": "support-triage", "2": "billing", "3": "support-triage", "4": "engineering", "5": "product-feedback"}


class Killed(BaseException):
    """The process dies right after Slack accepted a post (nothing after it runs)."""


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    """A workspace with every routed channel, the bot in each; no request may break the spec."""
    fake = SlackFake()
    for name in ("engineering", "billing", "product-feedback", "support-triage"):
        fake.add_channel(name)
    yield fake
    assert fake.violations == [] and fake.unknown == []


@pytest.fixture
def base(slack: SlackFake) -> Iterator[str]:
    """The fake's loopback address."""
    with serve(slack) as url:
        yield url


@pytest.fixture
def slack_settings(workspace: Path, base: str) -> Settings:
    """Rules classifier, the Slack chat at the fake (``SLACK_BASE_URL``), no pacing delay."""
    make_settings(workspace, '[classifier]\nkind = "rules"\n[connectors]\nchat = "slack"\n'
                             '[slack]\nchannel_interval_seconds = 0\n')
    settings = load_settings(workspace / "frontline.toml", dotenv=None,
                             environ={"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_BASE_URL": f"{base}/api"})
    LocalHelpdesk.from_settings(settings).upsert(TICKETS)
    return settings


def triage(settings: Settings, *, kill_after_posts: int | None = None) -> RunSummary:
    async def go() -> RunSummary:
        async with open_flow("triage", settings) as services:
            if kill_after_posts is not None:
                _die_after(services, kill_after_posts)
            return await run_triage(services)

    return run(go())


def _die_after(services: TriageServices, posts: int) -> None:
    real = services.chat.post
    landed: list[str] = []

    async def post(channel: str, message: ChatMessage, key: str) -> str:
        ref = await real(channel, message, key)
        landed.append(ref)
        if len(landed) >= posts:
            raise Killed
        return ref

    services.chat.post = post  # type: ignore[method-assign]


def alerts(slack: SlackFake) -> dict[str, list[str]]:
    """Ticket id → the channels its alerts landed in."""
    found: dict[str, list[str]] = {}
    for channel in slack.channels.values():
        for message in channel.messages:
            ticket = re.search(r"· #(\S+)", message["text"])
            assert ticket is not None, message["text"]
            found.setdefault(ticket.group(1), []).append(channel.name)
    return found


def test_each_ticket_gets_one_alert_in_its_routed_channel(slack_settings: Settings, slack: SlackFake) -> None:
    summary = triage(slack_settings)
    assert summary.handled == 5 and not summary.failures
    assert alerts(slack) == {ticket: [channel] for ticket, channel in ROUTED.items()}
    keys = Counter(m["metadata"]["event_payload"]["idempotency_key"] for m in slack.all_posted())
    assert len(keys) == 5 and set(keys.values()) == {1}
    notes = LocalHelpdesk.from_settings(slack_settings)
    assert all(len(notes.notes(ticket)) == 1 for ticket in ROUTED)


def test_the_fallback_channel_gets_the_alert_when_the_bot_is_not_in_engineering(
        slack_settings: Settings, slack: SlackFake) -> None:
    slack.named("engineering").members.clear()
    summary = triage(slack_settings)
    assert summary.handled == 5 and not summary.failures
    assert alerts(slack)["4"] == ["support-triage"] and slack.posted("#engineering") == []
    [note] = LocalHelpdesk.from_settings(slack_settings).notes("4")
    assert "alert refused in #engineering (not_in_channel)" in note["body"]


def test_a_second_run_posts_nothing(slack_settings: Settings, slack: SlackFake) -> None:
    triage(slack_settings)
    sent = len(slack.sent("POST", r"/api/chat\.postMessage"))
    summary = triage(slack_settings)
    assert summary.handled == 0 and len(slack.sent("POST", r"/api/chat\.postMessage")) == sent == 5


def test_alerts_posted_just_before_a_crash_are_found_not_posted_again(slack_settings: Settings,
                                                                      slack: SlackFake) -> None:
    with pytest.raises(Killed):
        triage(slack_settings, kill_after_posts=2)
    # Posts run concurrently: the ones in flight when it died landed too, none was recorded as done.
    assert len(slack.all_posted()) >= 2
    summary = triage(slack_settings)
    assert summary.handled == 5 and not summary.failures
    assert alerts(slack) == {ticket: [channel] for ticket, channel in ROUTED.items()}
    assert slack.sent("GET", r"/api/conversations\.history")  # the restart looked before posting again
