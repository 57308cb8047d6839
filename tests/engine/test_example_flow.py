"""A flow from a package of its own (tests/fixtures/example_flow) runs under `run`, `poll`, `worker` and `serve`.

The fixture package is installed into the test environment (``make`` does it) and declares its
flow under the ``frontline.flows`` entry points, exactly as a third-party package would: nothing
in frontline names it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from frontline.cli import cli, run, worker  # noqa: F401  (registers the commands)
from frontline.config import Settings, load_settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.outbox import OutboxChat
from frontline.errors import ConfigError
from frontline.flows import registry
from frontline.store.schema import requeued
from frontline.store.state import StateStore
from frontline.web.worker import background
from tests.helpers import make_settings
from tests.helpers import run as run_async
from tests.web.conftest import web_app


def tickets(settings: Settings, *ids: str) -> None:
    LocalHelpdesk.from_settings(settings).upsert([{"id": i, "subject": f"Question {i}", "description": "Hello?"}
                                                   for i in ids])


def greetings(settings: Settings) -> list[str]:
    return [e["text"] for e in OutboxChat(settings.path(settings.local.outbox)).entries()]


def frontline(workspace: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(workspace / "frontline.toml"), *args])


def test_run_names_the_installed_flow_and_greets_each_ticket_once(workspace: Path) -> None:
    assert "example" in registry.names(), "install the fixture flow: pip install -e tests/fixtures/example_flow"
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    tickets(settings, "1", "2")
    first = frontline(workspace, "run", "example")
    assert first.exit_code == 0, first.output
    assert "Example: 2 greeted, 0 already greeted, 0 failed" in first.output
    again = frontline(workspace, "run", "example")
    assert again.exit_code == 0 and "Example: 0 greeted" in again.output
    assert greetings(settings) == ["Hello, ticket 1: Question 1", "Hello, ticket 2: Question 2"]
    store = StateStore.open(settings.state_url)
    try:
        assert store.handled_among("triage", ["1", "2"]) == set()  # only the named flow ran
    finally:
        store.close()


def test_poll_takes_the_flow_by_name(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    tickets(settings, "7")
    result = frontline(workspace, "poll", "--flow", "example", "--cycles", "1")
    assert result.exit_code == 0, result.output
    assert "Example · cycle 1: 1 greeted" in result.output
    assert greetings(settings) == ["Hello, ticket 7: Question 7"]


def test_a_worker_fetches_and_handles_the_flow(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    tickets(settings, "3", "4")
    result = frontline(workspace, "worker", "--once", "--flow", "example")
    assert result.exit_code == 0, result.output
    assert "example on SQLite" in result.output and "example 2 (2 handled)" in result.output
    assert sorted(greetings(settings)) == ["Hello, ticket 3: Question 3", "Hello, ticket 4: Question 4"]


def test_serve_consumes_the_flows_inbox_entries(workspace: Path) -> None:
    app = web_app(workspace, "poll = false\n")
    tickets(app.settings, "9")
    app.inbox.add("api", "greet-9", "example", "9")

    async def go() -> None:
        async with background(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://frontline") as web:
            for _ in range(200):
                if (await web.get("/healthz")).json() == {"status": "ok", "inbox": {"waiting": 0, "dead": 0}}:
                    return
                await asyncio.sleep(0.05)
            raise AssertionError("the inbox did not drain")

    try:
        run_async(go())
        assert greetings(app.settings) == ["Hello, ticket 9: Question 9"]
    finally:
        run_async(app.aclose())
        app.store.close()


def test_an_unknown_flow_is_one_sentence_naming_the_known_ones(workspace: Path) -> None:
    make_settings(workspace, '[classifier]\nkind = "rules"\n')
    result = frontline(workspace, "run", "nosuch")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "'nosuch' is not one of 'triage', 'escalate', 'sla', 'example'" in result.output
    with pytest.raises(Exception, match=r"unknown flow 'nosuch' \(known: triage, escalate, sla, feedback, example\)"):
        registry.flow("nosuch")


def test_the_flow_s_own_section_sets_what_it_says(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n\n[example]\ngreeting = "Howdy"\n')
    assert settings.section("example").greeting == "Howdy"
    tickets(settings, "5")
    result = frontline(workspace, "run", "example")
    assert result.exit_code == 0, result.output
    assert greetings(settings) == ["Howdy, ticket 5: Question 5"]


def test_an_unknown_key_in_the_flow_s_section_is_one_sentence(workspace: Path) -> None:
    make_settings(workspace, '[classifier]\nkind = "rules"\n')
    config = workspace / "frontline.toml"
    config.write_text('[example]\ngreting = "Howdy"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={}, dotenv=None)
    assert str(caught.value) == f"{config}: `example.greting` is not a known setting; allowed here: greeting"
    result = frontline(workspace, "run", "example")
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert result.exit_code == 2 and len(errors) == 1 and "`example.greting`" in errors[0], result.output
    assert "Traceback" not in result.output


def test_a_bad_value_in_the_flow_s_section_is_one_sentence(tmp_path: Path) -> None:
    config = tmp_path / "frontline.toml"
    config.write_text('[example]\ngreeting = ""\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"`example.greeting` is invalid: .*at least 1 character"):
        load_settings(config, environ={}, dotenv=None)


def test_a_section_no_flow_or_package_declares_is_still_refused(tmp_path: Path) -> None:
    config = tmp_path / "frontline.toml"
    config.write_text('[exampel]\ngreeting = "Howdy"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={}, dotenv=None)
    assert "`exampel` is not a known setting" in str(caught.value) and "example," in str(caught.value)


def test_a_team_sets_the_flow_s_section_over_the_top_level_one(tmp_path: Path) -> None:
    config = tmp_path / "frontline.toml"
    config.write_text('[example]\ngreeting = "Hi"\n\n[teams.emea.example]\ngreeting = "Hallo"\n', encoding="utf-8")
    settings = load_settings(config, environ={}, dotenv=None)
    assert settings.section("example").greeting == "Hi"
    assert settings.for_team("emea").section("example").greeting == "Hallo"


def test_a_forgotten_ticket_is_greeted_again_and_a_dry_run_leaves_it_queued(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    tickets(settings, "1", "2")
    assert frontline(workspace, "run", "example").exit_code == 0
    forgot = frontline(workspace, "state", "forget", "1")
    assert "Forgot 1" in forgot.output, forgot.output
    shadow = frontline(workspace, "run", "example", "--dry-run")
    assert "Example: 1 greeted" in shadow.output, shadow.output  # what the next run will do
    store = StateStore.open(settings.state_url)
    try:
        assert store.requeued("example") == ["1"]
    finally:
        store.close()
    again = frontline(workspace, "run", "example")
    assert again.exit_code == 0 and "Example: 1 greeted, 0 already greeted, 0 failed" in again.output, again.output
    assert greetings(settings) == ["Hello, ticket 1: Question 1", "Hello, ticket 2: Question 2",
                                   "Hello, ticket 1: Question 1"]  # a new episode: a greeting of its own
    assert "Example: 0 greeted" in frontline(workspace, "run", "example").output
    store = StateStore.open(settings.state_url)
    try:
        assert store.requeued("example") == []
    finally:
        store.close()


def test_a_forgotten_ticket_gone_from_the_helpdesk_leaves_the_queue(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    tickets(settings, "1")
    assert frontline(workspace, "run", "example").exit_code == 0
    assert "Forgot 1" in frontline(workspace, "state", "forget", "1").output
    store = StateStore.open(settings.state_url)
    try:
        with store.engine.begin() as conn:  # forgotten, then deleted at the source
            conn.execute(requeued.insert().values(flow="example", item_id="404", requested_at=datetime.now(UTC)))
    finally:
        store.close()
    result = frontline(workspace, "run", "example")
    assert result.exit_code == 0 and "Example: 1 greeted" in result.output, result.output
    store = StateStore.open(settings.state_url)
    try:
        assert store.requeued("example") == []
    finally:
        store.close()
