"""Triage on the embedded helpdesk and outbox chat with Notion as the knowledge base (a fake Notion)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from frontline.config import Settings, load_settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.outbox import OutboxChat
from frontline.engine.services import open_flow
from frontline.flows.triage import RunSummary, run_triage
from tests.fakes.notion import GOOD_TOKEN, FakeNotion
from tests.helpers import make_settings, run

TICKETS: list[dict[str, Any]] = [
    {"id": "1", "subject": "Cannot log in", "description": "I forgot my password and I'm locked out of my account"},
    {"id": "2", "subject": "Export crashes", "description": "The CSV export of our invoices crashes with an error"},
    {"id": "3", "subject": "Charged twice", "description": "Our invoice shows a double charge on the credit card"},
]


def notion_workspace() -> tuple[FakeNotion, str]:
    """A fake Notion with a shared help-centre database; returns it and the database id."""
    fake = FakeNotion()
    db = fake.add_database("Help Centre")
    fake.add_page("Reset your password", "If you forgot your password or are locked out, choose Forgot password "
                  "on the login page.", database=db)
    fake.add_page("Export invoices to CSV", "Open Billing, then Invoices, and choose Export.", database=db)
    fake.add_page("Update your credit card", "Billing, then Payment method.", database=db)
    return fake, db.id


def settings_for(workspace: Path, **env: str) -> Settings:
    make_settings(workspace, '[classifier]\nkind = "rules"\n[connectors]\nkb = "notion"\n')
    return load_settings(workspace / "frontline.toml", dotenv=None, environ={"NOTION_TOKEN": GOOD_TOKEN, **env})


def triage(settings: Settings, fake: FakeNotion) -> RunSummary:
    async def go() -> RunSummary:
        async with fake.client() as http, open_flow("triage", settings, http=http) as services:
            assert services.kb.name == "notion"
            return await run_triage(services)
    return run(go())


def alert_for(settings: Settings, ticket_id: str) -> dict[str, Any]:
    entries = OutboxChat(settings.path(settings.local.outbox)).entries()
    return next(e for e in entries if f"#{ticket_id} " in e["text"])


def test_notion_articles_reach_the_private_note_and_the_alert(workspace: Path) -> None:
    fake, database = notion_workspace()
    settings = settings_for(workspace, NOTION_DB_ID=database)
    helpdesk = LocalHelpdesk.from_settings(settings)
    helpdesk.upsert(TICKETS)
    summary = triage(settings, fake)
    assert summary.handled == 3 and not summary.failures and summary.problems == 0
    reset = next(p for p in fake.pages.values() if p.title == "Reset your password")
    export = next(p for p in fake.pages.values() if p.title == "Export invoices to CSV")
    note = helpdesk.notes("1")[0]["body"]
    assert f"Reset your password: {reset.url}" in note
    assert reset.url in str(alert_for(settings, "1")["blocks"])
    assert f"Export invoices to CSV: {export.url}" in helpdesk.notes("2")[0]["body"]
    assert export.url in str(alert_for(settings, "2")["blocks"])
    assert "Help articles" not in helpdesk.notes("3")[0]["body"]  # billing is not a KB category
    assert fake.violations == [] and fake.unknown == []


def test_an_unshared_notion_is_a_recorded_problem_and_triage_goes_on(workspace: Path) -> None:
    fake, _ = notion_workspace()
    for database in fake.databases.values():
        database.shared = False
    settings = settings_for(workspace)  # no database: workspace search, which now sees nothing
    helpdesk = LocalHelpdesk.from_settings(settings)
    helpdesk.upsert(TICKETS[:1])
    summary = triage(settings, fake)
    assert summary.handled == 1 and not summary.failures
    note = helpdesk.notes("1")[0]["body"]
    assert "Help articles" not in note
    assert "KB search failed: Notion: the integration can see no pages in the workspace" in note
    assert "Add connections" in note
