"""SLA due times set at triage, and the sla flow's check on a virtual clock (``now`` injected).

Each check opens the flow's services anew, as a restarted process would: what was alerted is known
from the ledger alone.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from frontline.config import Settings, load_settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.outbox import OutboxChat
from frontline.decide.sla import FIRST_RESPONSE, POLICY, RESOLUTION, Expectation
from frontline.engine.services import open_flow
from frontline.flows.registry import flow
from frontline.flows.sla import SlaSummary
from frontline.flows.triage import run_triage
from frontline.store.state import StateStore
from frontline.web.metrics import WebMetrics
from tests.fakes.zendesk import ADMIN_EMAIL, ADMIN_TOKEN, FakeZendesk
from tests.helpers import make_settings, run

CREATED = "2026-12-01T10:00:00Z"  # a Tuesday morning
TICKETS: list[dict[str, Any]] = [
    {"id": "1", "subject": "Export crashes", "description": "The CSV export crashes with an error every time",
     "company": "Tiny", "plan": "starter", "mrr": 20.0, "created_at": CREATED},
    {"id": "2", "subject": "Idea", "description": "Feature request: it would be great to have dark mode",
     "created_at": CREATED},
]


def triage(settings: Settings) -> None:
    async def go() -> None:
        async with open_flow("triage", settings) as services:
            summary = await run_triage(services)
            assert not summary.failures, summary.failures

    run(go())


def check(settings: Settings, now: datetime, fake: FakeZendesk | None = None, **options: Any) -> SlaSummary:
    """One sla check at ``now``, in services opened for it alone (a restart between checks)."""
    async def go(http: Any = None) -> SlaSummary:
        async with open_flow("sla", settings, http=http) as services:
            summary: SlaSummary = await flow("sla").start(services, now=lambda: now, **options).run()
            return summary

    async def on_zendesk() -> SlaSummary:
        assert fake is not None
        async with fake.client() as http:
            return await go(http)

    return run(on_zendesk() if fake is not None else go())


def triage_on(settings: Settings, fake: FakeZendesk) -> None:
    async def go() -> None:
        async with fake.client() as http, open_flow("triage", settings, http=http) as services:
            assert not (await run_triage(services)).failures

    run(go())


def stored(settings: Settings, ticket_id: str, flow: str = "triage") -> Expectation:
    store = StateStore.open(settings.state_url)
    try:
        sla = Expectation.from_fields(store.latest_fields(flow, [ticket_id])[ticket_id].get("sla"))
    finally:
        store.close()
    assert sla is not None
    return sla


def sla_alerts(settings: Settings) -> list[str]:
    return [e["text"] for e in OutboxChat(settings.path(settings.local.outbox)).entries() if "SLA" in e["text"]]


@pytest.fixture
def helpdesk(settings: Settings) -> LocalHelpdesk:
    desk = LocalHelpdesk.from_settings(settings)
    desk.upsert(TICKETS)
    return desk


def test_triage_stores_the_due_times_and_writes_them_in_the_note(settings: Settings,
                                                                 helpdesk: LocalHelpdesk) -> None:
    triage(settings)
    sla = stored(settings, "1")
    first, resolution = sla.due(FIRST_RESPONSE), sla.due(RESOLUTION)
    assert first is not None and resolution is not None and sla.source == "frontline"
    assert sla.plan is None  # a starter plan has no targets of its own
    created = datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert first.at > created and resolution.at > first.at
    note = helpdesk.notes("1")[0]["body"]
    assert "SLA (frontline):" in note and "first response due" in note and "resolution due" in note


def test_enterprise_targets_are_tighter(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    desk = LocalHelpdesk.from_settings(settings)
    desk.upsert([{**TICKETS[0], "plan": "enterprise"}, {**TICKETS[0], "id": "9"}])
    triage(settings)
    enterprise, starter = stored(settings, "1"), stored(settings, "9")
    assert enterprise.plan == "enterprise"
    assert enterprise.dues[FIRST_RESPONSE].at < starter.dues[FIRST_RESPONSE].at


def test_the_check_alerts_once_before_and_once_at_the_breach_across_restarts(settings: Settings) -> None:
    LocalHelpdesk.from_settings(settings).upsert([TICKETS[1]])
    triage(settings)
    first = stored(settings, "2").dues[FIRST_RESPONSE]
    assert first.warn_at is not None
    early = check(settings, first.warn_at - timedelta(minutes=1))
    assert early.enrolled == 1 and early.warned == 0 and not sla_alerts(settings)

    warned = check(settings, first.warn_at + timedelta(minutes=1))
    assert warned.warned == 1 and warned.breached == 0
    assert check(settings, first.warn_at + timedelta(minutes=2)).warned == 0  # restarted: warned already
    assert len(sla_alerts(settings)) == 1 and "due soon" in sla_alerts(settings)[0]

    breached = check(settings, first.at + timedelta(minutes=1))
    assert breached.breached == 1 and breached.by_metric == {FIRST_RESPONSE: 1}
    again = check(settings, first.at + timedelta(minutes=5))
    assert again.breached == 0 and again.warned == 0
    texts = sla_alerts(settings)
    assert len(texts) == 2 and "SLA breached" in texts[1] and "#2" in texts[1] and "first response" in texts[1]


def test_an_alert_posted_just_before_a_crash_is_found_and_not_posted_again(settings: Settings,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    LocalHelpdesk.from_settings(settings).upsert([TICKETS[1]])
    triage(settings)
    first = stored(settings, "2").dues[FIRST_RESPONSE]
    real_finish = StateStore.finish

    def crash_after_posting(self: StateStore, outcomes: Any) -> None:
        if any(o.kind.startswith("sla_") and o.status.value == "done" for o in outcomes):
            raise RuntimeError("killed between the post and the ledger")
        real_finish(self, outcomes)

    monkeypatch.setattr(StateStore, "finish", crash_after_posting)
    crashed = check(settings, first.at + timedelta(minutes=1))
    assert crashed.failures and len(sla_alerts(settings)) == 1  # posted, but the ledger says only "planned"
    monkeypatch.setattr(StateStore, "finish", real_finish)
    recovered = check(settings, first.at + timedelta(minutes=2))
    assert not recovered.failures and len(sla_alerts(settings)) == 1  # found by its key in the outbox


def test_a_late_check_sends_the_breach_without_the_warning_it_missed(settings: Settings) -> None:
    LocalHelpdesk.from_settings(settings).upsert([TICKETS[1]])
    triage(settings)
    resolution = stored(settings, "2").dues[RESOLUTION]
    summary = check(settings, resolution.at + timedelta(hours=1))
    assert summary.warned == 0 and summary.breached == 2  # first response and resolution, one alert each
    assert check(settings, resolution.at + timedelta(hours=2)).breached == 0


def test_a_breach_first_seen_long_after_its_due_time_is_counted_without_an_alert(settings: Settings) -> None:
    # A backlog triaged days late (or a check that was down): no flood of breach alerts at once.
    LocalHelpdesk.from_settings(settings).upsert([TICKETS[1]])
    triage(settings)
    resolution = stored(settings, "2").dues[RESOLUTION]
    summary = check(settings, resolution.at + timedelta(days=2))
    assert summary.breached == 2 and summary.late == 2 and not sla_alerts(settings)
    assert check(settings, resolution.at + timedelta(days=3)).breached == 0  # counted once
    store = StateStore.open(settings.state_url)
    try:
        text = WebMetrics(store, Counter).render().decode()
    finally:
        store.close()
    assert 'frontline_sla_breaches_total{flow="sla",metric="resolution"} 1.0' in text


def test_a_solved_ticket_is_not_alerted_and_leaves_the_watch_list(settings: Settings,
                                                                  helpdesk: LocalHelpdesk) -> None:
    triage(settings)
    helpdesk.upsert([{**TICKETS[1], "status": "solved"}])
    due = stored(settings, "2").dues[FIRST_RESPONSE].at
    summary = check(settings, due + timedelta(minutes=1))
    assert summary.closed == 1 and not [t for t in sla_alerts(settings) if "#2" in t]
    store = StateStore.open(settings.state_url)
    try:
        assert "2" not in store.due("sla", due + timedelta(days=30))
    finally:
        store.close()


def test_a_dry_run_posts_nothing_and_leaves_the_alerts_for_the_real_check(settings: Settings,
                                                                         helpdesk: LocalHelpdesk) -> None:
    triage(settings)
    due = stored(settings, "2").dues[FIRST_RESPONSE].at
    dry = check(settings, due + timedelta(minutes=1), dry_run=True)  # before any check picked the due times up
    assert dry.enrolled == 2 and dry.breached >= 1 and not sla_alerts(settings)
    real = check(settings, due + timedelta(minutes=1))
    assert real.enrolled == 2 and real.breached == dry.breached and len(sla_alerts(settings)) == real.breached


def test_breaches_are_counted_on_metrics(settings: Settings) -> None:
    LocalHelpdesk.from_settings(settings).upsert([TICKETS[1]])
    triage(settings)
    resolution = stored(settings, "2").dues[RESOLUTION]
    check(settings, resolution.at + timedelta(hours=1))
    store = StateStore.open(settings.state_url)
    try:
        text = WebMetrics(store, Counter).render().decode()
    finally:
        store.close()
    assert 'frontline_sla_breaches_total{flow="sla",metric="first_response"} 1.0' in text
    assert 'frontline_sla_breaches_total{flow="sla",metric="resolution"} 1.0' in text


def test_sla_off_sets_no_due_times(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n[sla]\nenabled = false\n')
    LocalHelpdesk.from_settings(settings).upsert(TICKETS)
    triage(settings)
    store = StateStore.open(settings.state_url)
    try:
        assert store.latest_fields("triage", ["1"])["1"]["sla"] is None
    finally:
        store.close()
    assert check(settings, datetime(2027, 1, 1, tzinfo=UTC)).checked == 0


# -- Zendesk: its own SLA policies --------------------------------------------------------------------
ZENDESK_ENV = {"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": ADMIN_EMAIL, "ZENDESK_API_TOKEN": ADMIN_TOKEN}


@pytest.fixture
def zendesk_settings(workspace: Path) -> Settings:
    make_settings(workspace, '[classifier]\nkind = "rules"\n[connectors]\nhelpdesk = "zendesk"\n'
                             '[sla]\ndue_field = "360777"\nresolution_field = "360778"\n')
    return load_settings(workspace / "frontline.toml", environ=ZENDESK_ENV, dotenv=None)


def test_zendesk_breach_at_is_used_instead_of_frontlines_own(zendesk_settings: Settings) -> None:
    fake = FakeZendesk()
    user = fake.add_user("Tim", "tim@tiny.example")
    ticket = fake.add_ticket("Export crashes", "The CSV export crashes with an error every time", requester_id=user)
    fake.sla(ticket, "first_reply_time", "2031-01-06T09:17:00Z")
    fake.sla(ticket, "next_reply_time", "2031-01-09T09:00:00Z")  # not one of frontline's two
    other = fake.add_ticket("Idea", "Feature request: dark mode", requester_id=user)
    triage_on(zendesk_settings, fake)
    sla = stored(zendesk_settings, str(ticket))
    first, resolution = sla.dues[FIRST_RESPONSE], sla.dues[RESOLUTION]
    assert first.source == POLICY and first.at == datetime(2031, 1, 6, 9, 17, tzinfo=UTC)
    assert resolution.source == "frontline"  # the policy sets no resolution target for it
    assert stored(zendesk_settings, str(other)).source == "frontline"
    fields = {f["id"]: f["value"] for f in fake.tickets[ticket]["custom_fields"]}
    assert fields[360777] == "2031-01-06T09:17:00Z"
    assert fields[360778] == resolution.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "SLA (policy+frontline)" in fake.private_notes(ticket)[0]


def test_an_answered_zendesk_ticket_gets_no_first_response_alert(zendesk_settings: Settings) -> None:
    fake = FakeZendesk()
    user = fake.add_user("Tim", "tim@tiny.example")
    ticket = fake.add_ticket("Idea", "Feature request: dark mode", requester_id=user)
    triage_on(zendesk_settings, fake)
    sla = stored(zendesk_settings, str(ticket))
    fake.reply(ticket, "Thanks, we are on it")
    summary = check(zendesk_settings, sla.dues[FIRST_RESPONSE].at + timedelta(minutes=1), fake)
    assert summary.answered == 1 and summary.breached == 0 and not sla_alerts(zendesk_settings)


# -- the worker: due times come through the fetcher and the inbox like any flow's work -------------------
def test_the_worker_alerts_each_breach_once(workspace: Path) -> None:
    import asyncio

    from frontline.cli.common import selected_teams
    from frontline.cli.worker import open_lanes
    from frontline.engine.worker import Worker, WorkerOptions, WorkerTotals

    # The worker runs on the real clock: a ticket three weeks old, whose breaches are still alerted.
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n[sla]\nalert_late_breaches = "2000h"\n')
    weeks_ago = (datetime.now(UTC) - timedelta(days=21)).isoformat()
    LocalHelpdesk.from_settings(settings).upsert([{**TICKETS[1], "created_at": weeks_ago}])
    triage(settings)

    def work() -> WorkerTotals:
        async def go() -> WorkerTotals:
            store = StateStore.open(settings.state_url)
            try:
                async with open_lanes(selected_teams(settings, None), ("sla",), store) as lanes:
                    return await Worker(store, lanes, WorkerOptions(once=True, idle_seconds=0.05),
                                        report=lambda line: None).run()
            finally:
                store.close()

        return asyncio.run(go())

    first = work()
    assert first.counts["done"] == 1 and first.counts["failed"] == 0
    assert len(sla_alerts(settings)) == 2 and all("SLA breached" in text for text in sla_alerts(settings))
    again = work()
    assert again.fetched == 0 and len(sla_alerts(settings)) == 2  # no longer watched: nothing to look at
