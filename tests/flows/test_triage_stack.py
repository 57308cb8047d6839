"""Triage on the real stack: Zendesk → classify → Notion KB → Slack → back to Zendesk, against the fakes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from frontline.cli import cli, doctor, run  # noqa: F401  (importing the modules registers the commands)
from frontline.config import Settings, load_settings
from frontline.engine.services import open_flow
from frontline.flows.triage import RunSummary, run_triage
from tests.fakes.base import serve
from tests.fakes.stack import Stack, build_stack, serve_stack
from tests.helpers import make_settings
from tests.helpers import run as run_async

CONFIG = '[classifier]\nkind = "rules"\n[slack]\nchannel_interval_seconds = 0\n'
REAL_STACK = {("connectors", "helpdesk"): "zendesk", ("connectors", "kb"): "notion", ("connectors", "chat"): "slack"}
MARKER = re.compile(r"\[(fl-[0-9a-f]+)\]")
ROUTES = {"bug": "engineering", "billing": "billing", "feature_request": "product-feedback"}


@pytest.fixture
def stack() -> Iterator[Stack]:
    """The seeded fakes; no request to any of them may break its vendor's spec."""
    fakes = build_stack(25)
    yield fakes
    for fake in fakes.fakes:
        assert fake.violations == [] and fake.unknown == [], fake.service


@pytest.fixture
def slack_url(stack: Stack) -> Iterator[str]:
    """Slack's SDK runs on aiohttp, so its fake is always served on loopback."""
    with serve(stack.slack) as url:
        yield f"{url}/api"


def stack_settings(workspace: Path, env: dict[str, str]) -> Settings:
    make_settings(workspace, CONFIG)
    return load_settings(workspace / "frontline.toml", environ=env, dotenv=None, overrides=REAL_STACK)


def triage(settings: Settings, stack: Stack) -> RunSummary:
    async def go() -> RunSummary:
        async with (stack_client(stack) as http, open_flow("triage", settings, http=http) as services):
            return await run_triage(services)

    return run_async(go())


def stack_client(stack: Stack) -> object:
    import httpx

    return httpx.AsyncClient(transport=stack.transport())


def waiting(stack: Stack) -> list[int]:
    return [t for t, stored in stack.zendesk.tickets.items() if stored["status"] in ("new", "open")]


def notes(stack: Stack, ticket: int) -> list[str]:
    return [MARKER.search(n).group(1) for n in stack.zendesk.private_notes(ticket) if MARKER.search(n)]


def assert_once_each(stack: Stack, original_tags: dict[int, list[str]]) -> None:
    """Every waiting ticket: one private note, its own tags kept, one alert in Slack."""
    alerts = Counter(re.search(r"#(\d+)", m["text"]).group(1) for m in stack.slack.all_posted())  # type: ignore[union-attr]
    for ticket in original_tags:
        stored = stack.zendesk.tickets[ticket]
        assert len(notes(stack, ticket)) == 1, stack.zendesk.private_notes(ticket)
        assert stored["tags"][:len(original_tags[ticket])] == original_tags[ticket]
        assert "triaged_by_agent" in stored["tags"]
        assert alerts[str(ticket)] == 1


def test_every_ticket_is_written_back_and_alerted_once_with_notion_articles(
        workspace: Path, stack: Stack, slack_url: str) -> None:
    tags = {t: list(stack.zendesk.tickets[t]["tags"]) for t in waiting(stack)}
    settings = stack_settings(workspace, stack.environment(slack=slack_url))
    summary = triage(settings, stack)
    assert summary.handled == len(tags) and not summary.failures and summary.problems == 0
    assert_once_each(stack, tags)
    for message in stack.slack.all_posted():  # each alert sits in its category's channel
        category = re.search(r"\] (\w+)", message["text"]).group(1)  # type: ignore[union-attr]
        channel = next(c.name for c in stack.slack.channels.values() if message in c.messages)
        expected = "support-triage" if "needs review" in message["text"] else ROUTES.get(category, "support-triage")
        assert channel == expected, message["text"]
    with_articles = [t for t in tags if "help.beacon.example" not in " ".join(stack.zendesk.private_notes(t))
                     and "notion.so" in " ".join(stack.zendesk.private_notes(t))]
    assert with_articles, "no note links a Notion article"
    linked = [m for m in stack.slack.all_posted() if "notion.so" in str(m.get("blocks"))]
    assert linked, "no alert links a Notion article"
    again = triage(settings, stack)
    assert again.handled == 0 and not again.failures
    assert_once_each(stack, tags)


def test_tickets_listed_with_float_ids_are_each_handled_once_through_notion_and_slack(
        workspace: Path, stack: Stack, slack_url: str) -> None:
    stack.zendesk.float_ids = True  # every id as JSON bridges return it: 106.0
    tags = {t: list(stack.zendesk.tickets[t]["tags"]) for t in waiting(stack)}
    settings = stack_settings(workspace, stack.environment(slack=slack_url))
    summary = triage(settings, stack)
    assert summary.handled == len(tags) and not summary.failures
    assert_once_each(stack, tags)
    enterprise = [t for t in tags if stack.zendesk.organizations[stack.zendesk.users[
        stack.zendesk.tickets[t]["requester_id"]]["organization_id"]]["organization_fields"]["plan"] == "enterprise"]
    assert all("enterprise" in stack.zendesk.private_notes(t)[0] for t in enterprise)  # the sideloads matched
    again = triage(settings, stack)
    assert again.handled == 0 and not again.failures
    assert_once_each(stack, tags)


def test_the_cli_names_a_listed_ticket_it_cannot_read_and_exits_1_until_it_can(workspace: Path) -> None:
    stack = build_stack(12, zendesk_host=None)
    stack.zendesk.float_ids = True
    unreadable, *others = waiting(stack)
    stack.zendesk.garble(unreadable, {"id": "[/x]"})  # an id that is no ticket number (and looks like markup)
    make_settings(workspace, CONFIG)
    args = ["--config", str(workspace / "frontline.toml"), "run", "triage", "--helpdesk", "zendesk", "--kb", "notion",
            "--chat", "slack", "-q"]
    runner = CliRunner()
    with serve_stack(stack) as env:
        first = runner.invoke(cli, args, env=env)
        assert first.exit_code == 1, first.output
        assert "failed #[/x]: Zendesk listed a ticket whose id '[/x]' is not a ticket number" in first.output
        assert f"Triage: {len(others)} handled" in first.output and "1 failed" in first.output
        assert "Traceback" not in first.output
        again = runner.invoke(cli, args, env=env)
        assert again.exit_code == 1 and "failed #[/x]" in again.output and "0 handled" in again.output
        stack.zendesk.garble(unreadable, None)
        fixed = runner.invoke(cli, args, env=env)
        assert fixed.exit_code == 0 and "Triage: 1 handled" in fixed.output, fixed.output
    assert all(len(notes(stack, t)) == 1 for t in [unreadable, *others])
    assert len(stack.slack.all_posted()) == len(others) + 1
    for fake in stack.fakes:
        assert fake.violations == [] and fake.unknown == [], fake.service


def test_rate_limits_and_server_errors_on_every_vendor_are_retried(workspace: Path, stack: Stack,
                                                                   slack_url: str) -> None:
    tags = {t: list(stack.zendesk.tickets[t]["tags"]) for t in waiting(stack)}
    stack.zendesk.fail(429, headers={"Retry-After": "0"}, on="GET .*/incremental/")
    stack.zendesk.fail(503, on="GET .*/incremental/")
    stack.notion.fail(429, headers={"Retry-After": "0"}, times=2)
    stack.notion.fail(502)
    stack.slack.fail(429, headers={"Retry-After": "0"}, times=2)
    stack.slack.fail(500)
    settings = stack_settings(workspace, stack.environment(slack=slack_url))
    summary = triage(settings, stack)
    assert summary.handled == len(tags) and not summary.failures and summary.problems == 0
    assert_once_each(stack, tags)


def test_an_ambiguous_bulk_write_failure_is_settled_by_the_next_run_without_doubles(
        workspace: Path, stack: Stack, slack_url: str) -> None:
    tags = {t: list(stack.zendesk.tickets[t]["tags"]) for t in waiting(stack)}
    stack.zendesk.fail(503, on="PUT .*/update_many")  # did the job start? Zendesk may still run it
    settings = stack_settings(workspace, stack.environment(slack=slack_url))
    first = triage(settings, stack)
    assert first.handled == 0 and len(first.failures) == len(tags)
    assert "503" in first.failures[0][1]
    assert len(stack.slack.all_posted()) == len(tags)  # the alerts went out once already
    second = triage(settings, stack)
    assert second.handled == len(tags) and not second.failures
    assert_once_each(stack, tags)


def test_the_fallback_channel_is_used_when_the_bot_is_missing(workspace: Path, stack: Stack, slack_url: str) -> None:
    stack.slack.named("engineering").members.clear()
    settings = stack_settings(workspace, stack.environment(slack=slack_url))
    summary = triage(settings, stack)
    assert not summary.failures
    assert stack.slack.posted("engineering") == []
    bugs = [m for m in stack.slack.posted("support-triage") if "] bug" in m["text"] and "review" not in m["text"]]
    assert bugs and summary.problems == len(bugs)
    bug_ticket = int(re.search(r"#(\d+)", bugs[0]["text"]).group(1))  # type: ignore[union-attr]
    note = stack.zendesk.private_notes(bug_ticket)[0]
    assert "#engineering" in note and "invite" in note.lower()


def test_the_cli_runs_the_whole_stack_over_loopback_and_reports_a_revoked_token(workspace: Path) -> None:
    stack = build_stack(12, zendesk_host=None)
    make_settings(workspace, CONFIG)
    config = str(workspace / "frontline.toml")
    runner = CliRunner()
    with serve_stack(stack) as env:
        args = ["--config", config, "run", "triage", "--helpdesk", "zendesk", "--kb", "notion", "--chat", "slack"]
        first = runner.invoke(cli, [*args, "-q"], env=env)
        assert first.exit_code == 0, first.output
        handled = len([t for t in stack.zendesk.tickets if notes(stack, t)])
        assert f"Triage: {handled} handled" in first.output and handled > 5
        checked = runner.invoke(cli, ["--config", config, "doctor", "--helpdesk", "zendesk", "--kb", "notion",
                                      "--chat", "slack"], env=env)
        assert checked.exit_code == 0, checked.output
        assert checked.output.count("ACTIVE") >= 3
        stack.zendesk.revoke()
        revoked = runner.invoke(cli, args, env=env)
        assert revoked.exit_code == 1
        assert "Zendesk" in revoked.output and "401" in revoked.output and "Traceback" not in revoked.output
        broken = runner.invoke(cli, ["--config", config, "doctor", "--helpdesk", "zendesk"], env=env)
        assert broken.exit_code == 1 and "✗ helpdesk zendesk" in broken.output
    for fake in stack.fakes:
        assert fake.violations == [] and fake.unknown == [], fake.service
