"""The triage flow end to end on the embedded default."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from frontline.config import Settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.outbox import OutboxChat
from frontline.engine.services import open_flow
from frontline.errors import UnavailableError
from frontline.flows.triage import RunSummary, TriageServices, run_triage
from frontline.model import Article, ChatMessage, WriteBack
from frontline.ports import WriteResult
from tests.helpers import make_settings, run

TICKETS: list[dict[str, Any]] = [
    {"id": "1", "subject": "Cannot log in", "description": "I forgot my password and I'm locked out of my account",
     "tags": ["vip"], "company": "Acme", "plan": "enterprise", "mrr": 9000.0},
    {"id": "2", "subject": "Charged twice", "description": "Our invoice shows a double charge on the credit card",
     "company": "Tiny", "plan": "starter", "mrr": 20.0},
    {"id": "3", "subject": "hello", "description": "??"},
    {"id": "4", "subject": "Export crashes", "description": "The CSV export crashes with an error every time",
     "tags": ["mobile"]},
    {"id": "5", "subject": "Idea", "description": "Feature request: it would be great to have dark mode"},
]


def seed(settings: Settings, records: Sequence[dict[str, Any]] = TICKETS) -> LocalHelpdesk:
    helpdesk = LocalHelpdesk.from_settings(settings)
    helpdesk.upsert(records)
    return helpdesk


def triage(settings: Settings, **kwargs: Any) -> RunSummary:
    async def go() -> RunSummary:
        async with open_flow("triage", settings) as services:
            for name, value in kwargs.pop("replace", {}).items():
                setattr(services, name, value(getattr(services, name)))
            return await run_triage(services, **kwargs)

    return run(go())


def outbox(settings: Settings) -> list[dict[str, Any]]:
    return OutboxChat(settings.path(settings.local.outbox)).entries()


def alerts_per_ticket(settings: Settings) -> Counter[str]:
    counts: Counter[str] = Counter()
    for entry in outbox(settings):
        counts[entry["text"].split("#", 2)[-1].split()[0]] += 1
    return counts


def test_every_ticket_is_classified_alerted_and_written_back_once(settings: Settings) -> None:
    helpdesk = seed(settings)
    summary = triage(settings)
    assert summary.handled == 5 and not summary.failures
    assert alerts_per_ticket(settings) == Counter({"1": 1, "2": 1, "3": 1, "4": 1, "5": 1})
    channels = {e["text"].split("#", 2)[-1].split()[0]: e["channel"] for e in outbox(settings)}
    assert channels == {"1": "#support-triage", "2": "#billing", "3": "#support-triage", "4": "#engineering",
                        "5": "#product-feedback"}
    for ticket_id in "12345":
        assert len(helpdesk.notes(ticket_id)) == 1
    ticket = run(helpdesk.get("1"))
    assert ticket.tags[0] == "vip"
    assert {"auto_category:account_issue", "auto_severity:P0", "triaged_by_agent"} <= set(ticket.tags)
    assert ticket.priority == "urgent"  # P1 (locked out) raised to P0 for an enterprise customer
    billing = run(helpdesk.get("2"))
    assert billing.priority == "high" and "auto_category:billing" in billing.tags


def test_kb_articles_reach_the_note_and_the_alert(settings: Settings) -> None:
    helpdesk = seed(settings)
    triage(settings)
    note = helpdesk.notes("1")[0]["body"]
    assert "Reset your password: https://help.example/reset-password" in note
    alert = next(e for e in outbox(settings) if "#1 " in e["text"])
    assert "https://help.example/reset-password" in str(alert["blocks"])
    billing_note = helpdesk.notes("2")[0]["body"]
    assert "Help articles" not in billing_note  # billing is not a KB category by default


def test_low_confidence_goes_to_review_not_routing(settings: Settings) -> None:
    helpdesk = seed(settings)
    triage(settings)
    ticket = run(helpdesk.get("3"))
    assert "frontline-review" in ticket.tags and "triaged_by_agent" in ticket.tags
    assert not any(t.startswith("auto_category:") for t in ticket.tags)
    assert ticket.priority == "normal"  # abstaining is about the category: the severity still sets it
    assert "Needs human review" in helpdesk.notes("3")[0]["body"]


def test_an_unsure_outage_sent_for_review_keeps_its_urgency_and_its_articles(settings: Settings) -> None:
    helpdesk = seed(settings, [{"id": "9", "subject": "Production down",
                                "description": "Outage: nobody can export projects to CSV since this morning"}])
    summary = triage(settings)
    assert summary.review == 1
    ticket = run(helpdesk.get("9"))
    assert "frontline-review" in ticket.tags and "auto_severity:P0" in ticket.tags
    assert ticket.priority == "urgent"
    note = helpdesk.notes("9")[0]["body"]
    assert "Export your data" in note  # searched although its category is only a guess
    alert = next(e for e in outbox(settings) if "#9 " in e["text"])
    assert "[P0]" in alert["text"] and "Export your data" in str(alert["blocks"])


def test_a_reply_promises_no_articles_when_none_were_found(settings: Settings) -> None:
    helpdesk = seed(settings, [
        {"id": "7", "subject": "How do I enable the dark theme?", "description": "How to enable dark theme"},
        {"id": "8", "subject": "hello", "description": "??"},
    ])
    triage(settings)
    how_to = helpdesk.notes("7")[0]["body"]
    assert "Help articles" not in how_to and "below" not in how_to.split("Suggested reply:")[1].split("Why:")[0]
    review = helpdesk.notes("8")[0]["body"].split("Suggested reply:")[1].split("Why:")[0]
    assert "below" not in review and "follow up" in review


def test_second_run_alerts_nothing_new(settings: Settings) -> None:
    helpdesk = seed(settings)
    triage(settings)
    again = triage(settings)
    assert again.handled == 0
    assert len(outbox(settings)) == 5
    assert all(len(helpdesk.notes(t)) == 1 for t in "12345")


def test_a_reimported_unchanged_ticket_is_not_triaged_twice(settings: Settings) -> None:
    helpdesk = seed(settings)
    triage(settings)
    assert helpdesk.upsert([{**TICKETS[0], "id": "1.0"}]).unchanged == 1
    summary = triage(settings)
    assert summary.handled == 0
    assert len(outbox(settings)) == 5


def test_a_ticket_whose_text_changed_is_triaged_again_with_a_new_alert_and_note(settings: Settings) -> None:
    helpdesk = seed(settings)
    triage(settings)
    helpdesk.upsert([{**TICKETS[1], "id": "2.0", "description": "The export crashes with an error every time"}])
    summary = triage(settings)
    assert summary.handled == 1 and summary.by_category == Counter({"bug": 1})
    assert alerts_per_ticket(settings)["2"] == 2
    assert len(helpdesk.notes("2")) == 2
    assert triage(settings).handled == 0  # that version is handled now


def test_forgetting_a_ticket_decides_alerts_and_notes_it_again(settings: Settings) -> None:
    from frontline.store.state import StateStore

    helpdesk = seed(settings)
    triage(settings)
    store = StateStore.open(settings.state_url)
    assert store.forget("4") == 1
    store.close()
    shadow = triage(settings, dry_run=True)
    assert shadow.handled == 1 and shadow.skipped == 0  # the dry run shows what the next run will do
    assert alerts_per_ticket(settings)["4"] == 1 and len(helpdesk.notes("4")) == 1
    summary = triage(settings)
    assert summary.handled == 1 and not summary.failures
    assert alerts_per_ticket(settings)["4"] == 2
    notes = helpdesk.notes("4")
    assert len(notes) == 2 and notes[0]["marker"] != notes[1]["marker"]
    assert triage(settings).handled == 0


def test_dry_run_decides_but_writes_nothing(settings: Settings) -> None:
    helpdesk = seed(settings)
    summary = triage(settings, dry_run=True)
    assert summary.handled == 5 and summary.dry_run
    assert outbox(settings) == []
    assert all(helpdesk.notes(t) == [] for t in "12345")
    assert triage(settings).handled == 5  # the real run still sees everything


def test_limit_handles_only_that_many_and_the_rest_later(settings: Settings) -> None:
    seed(settings)
    assert triage(settings, limit=2).handled == 2
    assert triage(settings).handled == 3
    assert len(outbox(settings)) == 5


def test_refused_channel_falls_back_and_says_which_channel(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n'
                                        '[routing.channels]\nbug = "#engineering"\nbilling = "#billing"\n')
    settings = settings.model_copy(update={"local": settings.local.model_copy(
        update={"channels": ("#support-triage", "#billing", "#product-feedback")})})
    helpdesk = seed(settings)
    summary = triage(settings)
    assert summary.handled == 5
    bug_alert = next(e for e in outbox(settings) if "#4 " in e["text"])
    assert bug_alert["channel"] == "#support-triage"
    assert "alert refused in #engineering (not_in_channel)" in helpdesk.notes("4")[0]["body"]


class FailingKB:
    name = "broken"

    async def search(self, query: str, k: int = 3) -> list[Article]:
        raise UnavailableError("Notion", "timed out")

    async def aclose(self) -> None:
        return None


def test_failing_kb_search_is_recorded_and_triage_goes_on(settings: Settings) -> None:
    helpdesk = seed(settings)
    summary = triage(settings, replace={"kb": lambda _: FailingKB()})
    assert summary.handled == 5 and summary.problems >= 1
    assert "KB search failed: Notion: timed out" in helpdesk.notes("4")[0]["body"]
    assert len(outbox(settings)) == 5


class FlakyWriteBack:
    """Fails the write-back for chosen tickets, delegating the rest."""

    def __init__(self, inner: Any, failing: set[str]) -> None:
        self.inner = inner
        self.failing = failing
        self.name = inner.name

    async def write_back(self, updates: Sequence[WriteBack]) -> list[WriteResult]:
        ok = [u for u in updates if u.ticket_id not in self.failing]
        done = {r.ticket_id: r for r in await self.inner.write_back(ok)}
        return [done.get(u.ticket_id) or WriteResult(u.ticket_id, error=UnavailableError("Helpdesk", "503"))
                for u in updates]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_failed_write_back_is_retried_next_run_without_a_second_alert(settings: Settings) -> None:
    helpdesk = seed(settings)
    first = triage(settings, replace={"helpdesk": lambda inner: FlakyWriteBack(inner, {"2"})})
    assert [f[0] for f in first.failures] == ["2"]
    assert helpdesk.notes("2") == []
    second = triage(settings)
    assert second.handled == 1
    assert len(helpdesk.notes("2")) == 1
    assert alerts_per_ticket(settings)["2"] == 1


class Crash(BaseException):
    """Stands in for the process dying."""


class CrashingChat:
    """Posts through the real outbox, then dies after ``after`` posts (before the ledger hears of it)."""

    def __init__(self, inner: Any, after: int) -> None:
        self.inner = inner
        self.after = after
        self.name = inner.name

    async def post(self, channel: str, message: ChatMessage, key: str) -> str:
        ref = await self.inner.post(channel, message, key)
        self.after -= 1
        if self.after == 0:
            raise Crash()
        return str(ref)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("after", [1, 3, 5])
def test_a_run_killed_mid_way_and_restarted_handles_every_ticket_once(settings: Settings, after: int) -> None:
    helpdesk = seed(settings)
    with pytest.raises(Crash):
        triage(settings, replace={"chat": lambda inner: CrashingChat(inner, after)})
    summary = triage(settings)
    assert summary.handled == 5
    assert alerts_per_ticket(settings) == Counter({"1": 1, "2": 1, "3": 1, "4": 1, "5": 1})
    assert all(len(helpdesk.notes(t)) == 1 for t in "12345")


def test_crash_after_write_back_before_ledger_is_reconciled_by_marker(settings: Settings) -> None:
    helpdesk = seed(settings)

    class DiesAfterWriting(FlakyWriteBack):
        async def write_back(self, updates: Sequence[WriteBack]) -> list[WriteResult]:
            await self.inner.write_back(updates)
            raise Crash()

    with pytest.raises(Crash):
        triage(settings, replace={"helpdesk": lambda inner: DiesAfterWriting(inner, set())})
    summary = triage(settings)
    assert summary.handled == 5
    assert all(len(helpdesk.notes(t)) == 1 for t in "12345")
    assert len(outbox(settings)) == 5


def test_services_close_cleanly_when_the_flow_raises(settings: Settings) -> None:
    seed(settings)

    async def go() -> None:
        async with open_flow("triage", settings) as services:
            assert isinstance(services, TriageServices)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run(go())


def test_a_run_racing_a_workers_batch_triages_each_ticket_once(settings: Settings) -> None:
    import asyncio

    from frontline.flows.triage import TriageRun

    helpdesk = seed(settings)

    async def race() -> None:
        async with open_flow("triage", settings) as poller, open_flow("triage", settings) as worker:
            tickets = (await worker.helpdesk.list_changed(None, 50)).items
            await asyncio.gather(TriageRun(poller).run(), TriageRun(worker).handle(tickets),
                                 TriageRun(worker).handle(tickets))

    run(race())
    triage(settings)  # whatever was busy during the race is picked up now
    assert alerts_per_ticket(settings) == Counter({"1": 1, "2": 1, "3": 1, "4": 1, "5": 1})
    assert all(len(helpdesk.notes(t)) == 1 for t in "12345")


def test_a_claim_left_by_a_killed_process_is_taken_over_at_once(settings: Settings) -> None:
    from frontline.store.state import StateStore

    seed(settings)
    store = StateStore.open(settings.state_url)
    dead = f"{__import__('os').uname().nodename}:" \
           f"{__import__('frontline.runtime.owners', fromlist=['x'])._namespace()}:999999999:1"
    assert store.claim_many("triage", ["1"], dead, 300) == {"1"}
    store.close()
    assert triage(settings).handled == 5  # no 5-minute wait for a lease nobody will give back
