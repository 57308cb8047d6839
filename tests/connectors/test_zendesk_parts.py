"""The Zendesk adapter's parts: listing (the incremental export) and bulk writes each work on their own."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path

import frontline.connectors.zendesk as package
from frontline.config import Settings
from frontline.connectors.zendesk import ZendeskHelpdesk
from frontline.connectors.zendesk.api import SERVICE, ZendeskAPI
from frontline.connectors.zendesk.listing import TicketExport
from frontline.connectors.zendesk.payloads import TicketReader
from frontline.connectors.zendesk.writes import TicketWriter
from frontline.credentials import open_credentials
from tests.connectors.test_zendesk import ANN, ticket, update, zendesk_settings
from tests.fakes.zendesk import FakeZendesk
from tests.helpers import run


def api(fake: FakeZendesk, settings: Settings, **options: object) -> ZendeskAPI:
    credentials = open_credentials(settings)

    async def auth(refresh: bool) -> Mapping[str, str]:
        return (await credentials.get("zendesk", refresh=refresh)).headers()

    return ZendeskAPI(SERVICE, fake.client(), settings.zendesk.api_root, auth=auth, **options)  # type: ignore[arg-type]


def fake_account() -> FakeZendesk:
    fake = FakeZendesk()
    fake.add_user("Ann Customer", ANN, organization_id=fake.add_organization("Acme", plan="enterprise"))
    return fake


def test_the_listing_reads_the_export_and_a_ticket_on_its_own(workspace: Path) -> None:
    fake, settings = fake_account(), zendesk_settings(workspace)
    first, second = ticket(fake, "Login broken"), ticket(fake, "Invoice wrong")
    export = TicketExport(api(fake, settings), settings.zendesk,
                          TicketReader(settings.zendesk.plan_field, settings.zendesk.mrr_field))
    page = run(export.list_changed(None, 100))
    assert [t.id for t in page.items] == [str(first), str(second)] and page.cursor
    assert page.cursor.endswith(f"@{export.account}")
    assert run(export.get(str(first))).subject == "Login broken"
    assert run(export.find_note(str(first), "fl-none")) is None


def test_the_bulk_writer_writes_a_backlog_in_jobs_on_its_own(workspace: Path) -> None:
    fake, settings = fake_account(), zendesk_settings(workspace, "[zendesk]\nbulk_threshold = 2\n")
    numbers = [ticket(fake, f"Ticket {n}") for n in range(3)]
    looked: list[str] = []

    async def find_marker(ticket_id: str, marker: str) -> str | None:
        looked.append(ticket_id)
        return None

    writer = TicketWriter(api(fake, settings), api(fake, settings, attempts=1), settings.zendesk,
                          find_marker=find_marker, concurrency=2, clock=lambda: 0.0, sleep=asyncio.sleep)
    results = run(writer.write_back([update(n) for n in numbers]))
    assert [r.error for r in results] == [None] * 3
    assert all(str(r.remote_ref).startswith("job:") for r in results)
    assert [len(fake.private_notes(n)) for n in numbers] == [1, 1, 1] and looked == []
    assert any("update_many" in str(request.url) for request in fake.requests)


def test_the_helpdesk_is_still_imported_from_the_package_and_its_entry_point() -> None:
    (entry,) = [e for e in entry_points(group="frontline.helpdesks") if e.name == "zendesk"]
    assert entry.load() is ZendeskHelpdesk is package.ZendeskHelpdesk


def test_no_module_of_the_zendesk_adapter_outgrows_its_one_responsibility() -> None:
    folder = Path(package.__file__).parent
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in folder.glob("*.py")}
    assert {"listing.py", "writes.py", "helpdesk.py"} <= set(sizes)
    assert max(sizes.values()) <= 300, sizes
