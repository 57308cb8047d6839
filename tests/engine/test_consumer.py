"""The inbox consumer of `serve` and `worker`: decided as `run` decides, closed tickets skipped, busy given back."""

from __future__ import annotations

import time
from pathlib import Path

from frontline.config import Settings, load_settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.engine.consumer import BUSY_RETRY, Consumer
from frontline.engine.fetcher import Lane
from frontline.engine.once import run_once
from frontline.engine.services import open_flow
from frontline.flows import registry
from frontline.store.inbox import Inbox
from frontline.store.state import StateStore
from tests.fakes.llm import FakeLLM, answer
from tests.helpers import make_settings, run

BILLING = answer(category="billing", severity="P2", summary="Charged twice", suggested_reply="We'll refund it.",
                 confidence=0.92)
# The keyword rules are sure of this one (billing, above thresholds.confidence): only kind = "llm" asks the LLM.
CLEAR = {"subject": "Charged twice this month",
         "description": "My invoice shows a double charge on the card, please refund. billing invoice refund charge"}


def llm_settings(workspace: Path) -> Settings:
    make_settings(workspace, '[classifier]\nkind = "llm"\n[llm]\nmax_retries = 0\n')
    return load_settings(workspace / "frontline.toml", dotenv=None, environ={"OPENROUTER_API_KEY": "sk-test"})


def consume(settings: Settings, http: object, source: str, item_id: str) -> None:
    """Record one delivery naming ``item_id`` and let the inbox consumer settle it, as serve and worker do."""
    store = StateStore.open(settings.state_url)
    inbox = Inbox(store.engine)
    inbox.add(source, f"{source}-{item_id}", "triage", item_id)

    async def go() -> None:
        async with open_flow("triage", settings, http=http, store=store) as services:  # type: ignore[arg-type]
            lane = Lane(services.flow, registry.flow("triage"), services)
            await Consumer(store, inbox, "test").process(lane, inbox.lease("test", flow="triage"))

    try:
        run(go())
        assert inbox.depth() == {"waiting": 0, "dead": 0}
    finally:
        store.close()


def test_with_the_llm_classifier_run_and_the_inbox_both_ask_the_llm_for_every_ticket(workspace: Path) -> None:
    settings = llm_settings(workspace)
    LocalHelpdesk.from_settings(settings).upsert([{"id": "1", **CLEAR}, {"id": "2", **CLEAR}])
    fake = FakeLLM(BILLING)

    async def once() -> None:
        async with fake.client() as http:
            store = StateStore.open(settings.state_url)
            try:
                await run_once(registry.flow("triage"), settings, http=http, store=store, limit=1)
            finally:
                store.close()

    run(once())
    assert len(fake.requests) == 1  # `run triage` over ticket 1
    consume(settings, fake.client(), "api", "2")  # ticket 2 posted to serve (or fetched by a worker)
    assert len(fake.requests) == 2
    store = StateStore.open(settings.state_url)
    try:
        decided = [store.item_state(i)["decisions"][0]["classifier"] for i in ("1", "2")]
    finally:
        store.close()
    assert decided == ["rules+llm", "rules+llm"]


def test_a_ticket_solved_before_its_delivery_is_reached_is_settled_without_an_alert(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    LocalHelpdesk.from_settings(settings).upsert([{"id": "9", **CLEAR, "status": "solved"}])
    consume(settings, None, "zendesk", "9")
    assert LocalHelpdesk.from_settings(settings).notes("9") == []
    assert not (workspace / "outbox.jsonl").exists() or (workspace / "outbox.jsonl").read_text() == ""


def test_an_item_another_process_holds_is_given_back_without_spending_an_attempt(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    LocalHelpdesk.from_settings(settings).upsert([{"id": "5", **CLEAR}])
    store = StateStore.open(settings.state_url)
    inbox = Inbox(store.engine)
    inbox.add("zendesk", "inv-5", "triage", "5")
    assert store.claim("triage", "5", "someone-else", 60)

    async def go() -> None:
        async with open_flow("triage", settings, store=store) as services:
            lane = Lane(services.flow, registry.flow("triage"), services)
            counts = await Consumer(store, inbox, "test").process(lane, inbox.lease("test", flow="triage"))
            assert counts["busy"] == 1 and counts["failed"] == 0

    try:
        run(go())
        assert inbox.depth() == {"waiting": 1, "dead": 0}
        assert inbox.lease("test", flow="triage") == []  # back only after BUSY_RETRY
        time.sleep(BUSY_RETRY + 0.2)
        [entry] = inbox.lease("test", flow="triage")
    finally:
        store.close()
    assert entry.attempts == 1  # this lease only: the busy one was given back without spending an attempt
    assert LocalHelpdesk.from_settings(settings).notes("5") == []
