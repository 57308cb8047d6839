"""The incident storm on the Zendesk and Slack fakes: one incident, its alert kept current in Slack."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontline.config import Settings, load_settings
from frontline.demo.storm import Storm, generate_storm
from frontline.store.related import RelatedStore
from frontline.store.state import StateStore
from tests.fakes.base import serve
from tests.fakes.stack import Stack, build_stack
from tests.fakes.zendesk import HOST
from tests.flows.test_triage_stack import CONFIG, REAL_STACK, triage
from tests.helpers import make_settings

INCIDENT = ":rotating_light: Incident"


def storm_stack(storm: Storm, *, zendesk_host: str | None = HOST) -> tuple[Stack, set[int]]:
    """The fakes holding the storm's tickets (with their own creation times); the storm's Zendesk ids."""
    stack = build_stack(0, zendesk_host=zendesk_host)
    zendesk = stack.zendesk
    organizations: dict[str, int] = {}
    users: dict[str, int] = {}
    ids: set[int] = set()
    for record in storm.records:
        company = str(record["company"])
        if company not in organizations:
            organizations[company] = zendesk.add_organization(company, plan=record["plan"], mrr=record["mrr"])
        email = str(record["requester_email"])
        if email not in users:
            users[email] = zendesk.add_user(str(record["requester_name"]), email,
                                            organization_id=organizations[company])
        tags: Any = record.get("tags") or ()
        ticket = zendesk.add_ticket(str(record["subject"]), str(record["description"]), requester_id=users[email],
                                    status=str(record["status"]), tags=tuple(tags))
        zendesk.tickets[ticket]["created_at"] = record["created_at"]
        if record["id"] in storm.storm_ids:
            ids.add(ticket)
    return stack, ids


def stack_settings(workspace: Path, env: dict[str, str]) -> Settings:
    """The real stack in pages of 10 tickets, so the incident grows over pages and its alert is updated."""
    make_settings(workspace, CONFIG + "[runner]\nbatch_size = 10\n")
    return load_settings(workspace / "frontline.toml", environ=env, dotenv=None, overrides=REAL_STACK)


@pytest.fixture
def storm() -> Iterator[tuple[Stack, set[int]]]:
    """Forty customers reporting one failure among 200 normal tickets, in fake Zendesk; the spec holds."""
    stack, ids = storm_stack(generate_storm(200, 40))
    yield stack, ids
    for fake in stack.fakes:
        assert fake.violations == [] and fake.unknown == [], fake.service


def test_a_storm_on_zendesk_and_slack_is_one_incident_alert_kept_current_with_replies_in_its_thread(
        workspace: Path, storm: tuple[Stack, set[int]]) -> None:
    stack, ids = storm
    with serve(stack.slack) as url:
        settings = stack_settings(workspace, stack.environment(slack=f"{url}/api"))
        summary = triage(settings, stack)
        assert not summary.failures
        [incident] = RelatedStore(StateStore.open(settings.state_url).engine).incidents_of("triage")
        members = {int(m.ticket_id) for m in incident.members}
        normal = len(stack.zendesk.tickets) - len(ids)
        assert len(members & ids) / len(ids) >= 0.95 and len(members - ids) / normal <= 0.02
        slack = stack.slack
        [alert] = [m for m in slack.all_posted() if m["text"].startswith(INCIDENT)]
        assert "edited" in alert and f"{len({m.customer for m in incident.members})} customers" in alert["text"]
        channel = next(c.name for c in slack.channels.values() if alert in c.messages)
        replies = slack.replies(channel, alert["ts"])
        replied = {int(re.search(r"#(\d+)", r["text"]).group(1)) for r in replies}  # type: ignore[union-attr]
        assert replied <= members and len(replied) >= len(members) - 10
        for ticket in members:
            assert any(f"Incident {incident.id}" in note for note in stack.zendesk.private_notes(ticket))
        again = triage(settings, stack)
        assert again.handled == 0 and not again.failures
        alerts = Counter(re.search(r"#(\d+)", m["text"]).group(1)  # type: ignore[union-attr]
                         for m in slack.all_posted() if not m["text"].startswith(INCIDENT))
        assert set(alerts.values()) == {1} and len(alerts) == len(stack.zendesk.tickets)
        assert len([m for m in slack.all_posted() if m["text"].startswith(INCIDENT)]) == 1


def test_native_links_make_the_first_report_a_zendesk_problem_and_the_others_its_incidents(
        workspace: Path) -> None:
    stack, _ = storm_stack(generate_storm(60, 12))
    with serve(stack.slack) as url:
        make_settings(workspace, CONFIG + "[runner]\nbatch_size = 10\n[incidents]\nnative_links = true\n")
        settings = load_settings(workspace / "frontline.toml", environ=stack.environment(slack=f"{url}/api"),
                                 dotenv=None, overrides=REAL_STACK)
        assert not triage(settings, stack).failures
    [incident] = RelatedStore(StateStore.open(settings.state_url).engine).incidents_of("triage")
    first, *others = [int(m.ticket_id) for m in incident.members]
    tickets = stack.zendesk.tickets
    assert tickets[first]["type"] == "problem" and others
    assert all(tickets[t]["type"] == "incident" and tickets[t]["problem_id"] == first for t in others)
    assert all(tickets[t]["status"] in ("new", "open") for t in (first, *others))  # nothing closed or merged
    assert not [t for t in tickets if t not in (first, *others) and tickets[t]["type"] in ("problem", "incident")]
    for fake in stack.fakes:
        assert fake.violations == [] and fake.unknown == [], fake.service
