"""An incident storm triaged by real processes killed with SIGKILL at random moments: every effect once.

The harness of :mod:`tests.flows.test_crash` runs `frontline run triage` on the Zendesk and Slack
fakes (the embedded tracker) and kills it at least 20 times: after a random delay, after a random
number of further effects, or inside a Slack post or a Zendesk write. In the end every ticket has one
alert (at the top level, or a reply in a thread) and one write-back; the storm is one incident with
one alert in Slack, one tracker issue, and each member's notes link it exactly once.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from frontline.connectors.local.tracker import LocalTracker
from frontline.demo.storm import generate_storm
from frontline.model import effect_key
from frontline.store.related import RelatedStore
from frontline.store.state import StateStore
from tests.fakes.stack import serve_stack
from tests.flows.test_crash import (
    KILLS,
    TRIAGE_CONFIG,
    Tally,
    Target,
    Tripwire,
    _quiet_dropped_connections,  # noqa: F401  (autouse fixture: a killed process's dropped connections)
    _run_orphaned_jobs,
    _slack_writes,
    _zendesk_writes,
    cli,
    crash_until_done,
    environment,
    slack_key,
)
from tests.flows.test_incidents_stack import INCIDENT, storm_stack
from tests.helpers import make_settings

pytestmark = pytest.mark.slow

CONFIG = TRIAGE_CONFIG.replace("batch_size = 50", "batch_size = 20")


def test_an_incident_storm_survives_sigkill_with_every_effect_once(workspace: Path, tmp_path: Path) -> None:
    storm = generate_storm(400, 40)
    stack, storm_ids = storm_stack(storm, zendesk_host=None)
    tickets = sorted(stack.zendesk.tickets)
    tripwire = Tripwire()
    tripwire.wrap(stack.zendesk, _zendesk_writes)
    tripwire.wrap(stack.slack, _slack_writes)
    tripwire.wrap(stack.notion, lambda request: None)
    settings = make_settings(workspace, CONFIG)
    alert_keys = {effect_key("triage", str(t), "alert", "1"): t for t in tickets}
    note_keys = {t: effect_key("triage", str(t), "writeback", "1") for t in tickets}

    def alerts() -> Counter[int]:
        with stack.slack._lock:
            keys = [slack_key(m) for m in stack.slack.all_posted()]
        return Counter(alert_keys[k] for k in keys if k in alert_keys)

    def notes() -> Counter[int]:
        with stack.zendesk._lock:
            return Counter({t: sum(note_keys[t] in n for n in stack.zendesk.private_notes(t)) for t in tickets})

    def progress() -> int:
        return len(alerts()) + sum(1 for count in notes().values() if count)

    tally = Tally("triage incidents", items=len(tickets))
    logs = tmp_path / "logs"
    logs.mkdir()
    with serve_stack(stack) as env:
        target = Target(cli(workspace / "frontline.toml", "triage"), environment(env), progress, 2 * len(tickets),
                        writes={"zendesk update_many": 1 / 40, "zendesk job status": 1 / 40,
                                "slack chat.postMessage": 1 / 2},
                        after_kill=lambda rng: _run_orphaned_jobs(stack, rng))
        crash_until_done(target, tripwire, tally, logs, seed=20261203)
        time.sleep(2.1)  # any job still queued has run by now
    sent, written = alerts(), notes()
    tally.lost = sum(1 for t in tickets if not sent[t] or not written[t])
    tally.duplicated = sum(1 for t in tickets if sent[t] > 1 or written[t] > 1)
    print(f"\n{tally.line()}")
    assert tally.kills >= KILLS
    assert tally.lost == 0, [(t, sent[t], written[t]) for t in tickets if not sent[t] or not written[t]][:10]
    assert tally.duplicated == 0, [(t, sent[t], written[t]) for t in tickets if sent[t] > 1 or written[t] > 1][:10]
    incidents = [m for m in stack.slack.all_posted() if slack_key(m) not in alert_keys]
    assert len(incidents) == 1 and incidents[0]["text"].startswith(INCIDENT), [m["text"] for m in incidents]
    [incident] = RelatedStore(StateStore.open(settings.state_url).engine).incidents_of("triage")
    members = {int(m.ticket_id) for m in incident.members}
    assert len(members & {int(i) for i in storm_ids}) >= 0.95 * len(storm_ids)
    mention = re.compile(rf"incident {re.escape(incident.id)}\b", re.IGNORECASE)
    for ticket in members:  # its own note, or one follow-up note for a ticket triaged before the incident
        assert sum(bool(mention.search(n)) for n in stack.zendesk.private_notes(ticket)) == 1, ticket
    assert len([i for i in LocalTracker.from_settings(settings).list_issues() if i.title.startswith("Incident")]) == 1
    for fake in stack.fakes:
        assert fake.violations == [] and fake.unknown == [], fake.service
