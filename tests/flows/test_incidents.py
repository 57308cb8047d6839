"""Duplicates and incidents in the triage flow, on the embedded default: links, threads, one incident."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from frontline.config import Settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.outbox import OutboxChat
from frontline.connectors.local.tracker import LocalTracker
from frontline.demo.storm import Storm, generate_storm
from frontline.store.related import RelatedStore
from frontline.store.state import StateStore
from tests.flows.test_triage import seed, triage
from tests.helpers import make_settings

CONFIG = '[classifier]\nkind = "rules"\n'


def storm_check(storm: Storm, store: RelatedStore, flow: str = "triage") -> tuple[float, float]:
    """(share of the storm in the one incident, share of normal tickets pulled into it)."""
    incidents = store.incidents_of(flow)
    assert len(incidents) == 1, [(i.id, len(i.members)) for i in incidents]
    members = {m.ticket_id for m in incidents[0].members}
    normal = len(storm.records) - len(storm.storm_ids)
    return len(members & storm.storm_ids) / len(storm.storm_ids), len(members - storm.storm_ids) / normal


def related(settings: Settings) -> RelatedStore:
    return RelatedStore(StateStore.open(settings.state_url).engine)


def outbox(settings: Settings) -> OutboxChat:
    return OutboxChat(settings.path(settings.local.outbox))


@pytest.fixture
def storm() -> Storm:
    """Forty customers reporting one failure within 45 minutes, among 400 normal tickets over two weeks."""
    return generate_storm(400, 40)


def test_a_storm_is_one_incident_with_the_storm_in_it_and_the_normal_tickets_out(tmp_path: Path,
                                                                                   storm: Storm) -> None:
    settings = make_settings(tmp_path, CONFIG)
    seed(settings, storm.records)
    summary = triage(settings)
    assert not summary.failures
    linked, pulled = storm_check(storm, related(settings))
    assert linked >= 0.95 and pulled <= 0.02, (linked, pulled)


def test_the_incident_has_one_alert_kept_current_its_members_reply_in_its_thread(tmp_path: Path,
                                                                                  storm: Storm) -> None:
    settings = make_settings(tmp_path, CONFIG)
    seed(settings, storm.records)
    triage(settings)
    chat = outbox(settings)
    incident_alerts = [e for e in chat.entries() if e["text"].startswith(":rotating_light: Incident")]
    assert len(incident_alerts) == 1
    ref = incident_alerts[0]["ts"]
    incident = related(settings).incidents_of("triage")[0]
    current = chat.current(ref)
    assert current is not None and f"{len({m.customer for m in incident.members})} customers" in current["text"]
    replies = [e for e in chat.entries() if e.get("thread_ts") == ref]
    # Every member that joined after the incident opened replied in its thread; the ones before it are listed.
    assert len(replies) >= len(incident.members) - 10
    assert {r["text"].split("#", 2)[-1].split()[0] for r in replies} <= {m.ticket_id for m in incident.members}


def test_each_member_note_links_the_incident_and_its_severity_went_up(tmp_path: Path, storm: Storm) -> None:
    settings = make_settings(tmp_path, CONFIG)
    seed(settings, storm.records)
    triage(settings)
    incident = related(settings).incidents_of("triage")[0]
    helpdesk = LocalHelpdesk.from_settings(settings)
    member = incident.members[-1].ticket_id
    notes = helpdesk.notes(member)
    assert any(f"Incident {incident.id}" in note["body"] for note in notes), notes
    state = StateStore.open(settings.state_url).item_state(member)
    assert any("part of incident" in reason for d in state["decisions"] for reason in d["fields"]["reasons"])


def test_one_tracker_issue_per_incident_and_a_second_run_adds_nothing(tmp_path: Path, storm: Storm) -> None:
    settings = make_settings(tmp_path, CONFIG)
    seed(settings, storm.records)
    triage(settings)
    posted = len(outbox(settings).entries())
    again = triage(settings)
    assert again.handled == 0
    assert len(outbox(settings).entries()) == posted
    assert len(related(settings).incidents_of("triage")) == 1
    tracker = LocalTracker.from_settings(settings)
    assert len([i for i in tracker.list_issues() if i.title.startswith("Incident")]) == 1


def test_a_backlog_triaged_in_small_pages_finds_the_same_incident(tmp_path: Path, storm: Storm) -> None:
    (tmp_path / "whole").mkdir()
    (tmp_path / "paged").mkdir()
    whole = make_settings(tmp_path / "whole", CONFIG)
    seed(whole, storm.records)
    triage(whole)
    paged = make_settings(tmp_path / "paged", CONFIG + "[runner]\nbatch_size = 7\n")
    seed(paged, storm.records)
    triage(paged)
    first, second = related(whole).incidents_of("triage"), related(paged).incidents_of("triage")
    assert [(i.id, {m.ticket_id for m in i.members}) for i in first] == \
           [(i.id, {m.ticket_id for m in i.members}) for i in second]


RECORDS: list[dict[str, Any]] = [
    {"id": "1", "subject": "Invoice PDF export fails with 502", "requester_email": "ana@kestrel.example",
     "description": "When I export an invoice to PDF I get a 502 Bad Gateway error page.",
     "created_at": "2026-11-20T09:00:00Z"},
    {"id": "2", "subject": "Dark mode please", "description": "Feature request: it would be great to have dark mode",
     "created_at": "2026-11-20T09:05:00Z"},
    {"id": "3", "subject": "Still: invoice PDF export fails with 502", "requester_email": "ana@kestrel.example",
     "description": "Exporting an invoice to PDF still gives me the 502 Bad Gateway error page.",
     "created_at": "2026-11-20T10:00:00Z"},
]


def test_a_duplicate_is_listed_in_note_and_alert_and_its_alert_replies_in_the_first_ones_thread(
        tmp_path: Path) -> None:
    settings = make_settings(tmp_path, CONFIG)
    seed(settings, RECORDS)
    triage(settings)
    entries = outbox(settings).entries()
    first = next(e for e in entries if "#1 " in e["text"])
    duplicate = next(e for e in entries if "#3 " in e["text"])
    assert "thread_ts" not in first and duplicate["thread_ts"] == first["ts"]
    assert "Related tickets: #1" in duplicate["text"]
    assert not [e for e in entries if "#2 " in e["text"] and "thread_ts" in e]
    notes = LocalHelpdesk.from_settings(settings).notes("3")
    assert any("Related tickets: #1 (" in note["body"] for note in notes)
    assert related(settings).incidents_of("triage") == []  # one customer is no incident


def test_state_show_lists_the_duplicates_and_the_incident(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from frontline.cli import cli, state  # noqa: F401  (importing the module registers the command)

    settings = make_settings(tmp_path, CONFIG)
    seed(settings, RECORDS)
    triage(settings)
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "frontline.toml"), "state", "show", "3", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert [d["id"] for d in shown["duplicates"]] == ["1"] and shown["duplicates"][0]["score"] > 0
    assert shown["incident"] is None


def test_incidents_can_be_turned_off(tmp_path: Path, storm: Storm) -> None:
    settings = make_settings(tmp_path, CONFIG + "[incidents]\nenabled = false\n")
    seed(settings, storm.records[:60])
    triage(settings)
    assert all("thread_ts" not in e for e in outbox(settings).entries())
