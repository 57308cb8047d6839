"""The Zendesk helpdesk against a stateful fake Zendesk whose every request body is checked by the spec."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontline.config import Settings, load_settings
from frontline.connectors.zendesk import ZendeskHelpdesk
from frontline.credentials import open_credentials
from frontline.errors import AuthError, ConfigError, NotFoundError
from frontline.model import Author, WriteBack
from frontline.ports import Page
from tests.fakes.base import body_of, serve
from tests.fakes.zendesk import ADMIN_EMAIL, ADMIN_TOKEN, FakeZendesk
from tests.helpers import make_settings, run

ENV = {"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": ADMIN_EMAIL, "ZENDESK_API_TOKEN": ADMIN_TOKEN}
EXPORT = "GET .*/incremental/tickets/cursor"
ANN, SOL = "ann@acme.example", "sol@example.com"


def zendesk_settings(workspace: Path, toml: str = "", **env: str) -> Settings:
    make_settings(workspace, toml)
    return load_settings(workspace / "frontline.toml", environ={**ENV, **env}, dotenv=None)


def open_helpdesk(fake: FakeZendesk, settings: Settings, http: httpx.AsyncClient | None = None) -> ZendeskHelpdesk:
    return ZendeskHelpdesk.from_settings(settings, http=http or fake.client(), credentials=open_credentials(settings))


@pytest.fixture
def fake() -> FakeZendesk:
    """An account with one enterprise customer and one without an organization."""
    zendesk = FakeZendesk()
    acme = zendesk.add_organization("Acme", plan="enterprise", mrr="9,000.50", region="eu")
    zendesk.add_user("Ann Customer", ANN, organization_id=acme)
    zendesk.add_user("Sol Trader", SOL)
    return zendesk


@pytest.fixture
def settings(workspace: Path) -> Settings:
    """Settings pointing at acme.zendesk.com with an admin's API token."""
    return zendesk_settings(workspace)


@pytest.fixture
def helpdesk(fake: FakeZendesk, settings: Settings) -> ZendeskHelpdesk:
    """The adapter on the fake."""
    return open_helpdesk(fake, settings)


def ticket(fake: FakeZendesk, subject: str, *, status: str = "new", tags: tuple[str, ...] = (),
           solo: bool = False) -> int:
    requester = fake.user_id(SOL if solo else ANN)
    return fake.add_ticket(subject, f"{subject}: the first comment", requester_id=requester, status=status,
                           tags=tags)


def update(ticket_id: int, marker: str = "", **changes: Any) -> WriteBack:
    marker = marker or f"fl-{ticket_id}"
    values: dict[str, Any] = {"add_tags": ("auto_category:bug", "triaged_by_agent"), "priority": "high",
                              "note": f"frontline triage\nSummary: broken\n[{marker}]", "custom_fields": {}}
    values.update(changes)
    return WriteBack(ticket_id=str(ticket_id), marker=marker, **values)


def every_page(helpdesk: ZendeskHelpdesk, cursor: str | None, limit: int) -> Iterator[Page]:
    while True:
        page = run(helpdesk.list_changed(cursor, limit))
        yield page
        cursor = page.cursor
        if not page.has_more:
            return


# -- listing -------------------------------------------------------------------------------------
def test_lists_new_and_open_tickets_oldest_first_and_a_saved_cursor_resumes_without_gaps(
        fake: FakeZendesk, settings: Settings) -> None:
    first = ticket(fake, "First", tags=("vip",))
    second = ticket(fake, "Second", status="open")
    ticket(fake, "Solved already", status="solved")
    ticket(fake, "Waiting on customer", status="pending")
    third = ticket(fake, "Third")
    pages = list(every_page(open_helpdesk(fake, settings), None, 2))
    assert [[t.id for t in p.items] for p in pages] == [[str(first), str(second)], [str(third)]]
    saved = pages[-1].cursor
    assert saved

    # The next run (a new adapter) resumes from the saved cursor: only what changed since.
    later = ticket(fake, "Arrived later")
    fake.change(first, status="solved")  # changed, but no longer wanted
    resumed = run(open_helpdesk(fake, settings).list_changed(saved, 50))
    assert [t.id for t in resumed.items] == [str(later)] and not resumed.has_more
    assert run(open_helpdesk(fake, settings).list_changed(resumed.cursor, 50)).items == []


def test_a_cursor_saved_for_another_account_starts_over_instead_of_skipping(fake: FakeZendesk, workspace: Path
                                                                          ) -> None:
    ticket(fake, "Acme ticket")
    acme = run(open_helpdesk(fake, zendesk_settings(workspace)).list_changed(None, 10))
    assert acme.cursor and acme.cursor.endswith("@acme.zendesk.com")
    globex = FakeZendesk(host="globex.zendesk.com")
    user = globex.add_user("Gil", "gil@globex.example")
    older = globex.add_ticket("Older than the Acme cursor", "hello", requester_id=user)
    moved = open_helpdesk(globex, zendesk_settings(workspace, ZENDESK_SUBDOMAIN="globex"))
    assert [t.id for t in run(moved.list_changed(acme.cursor, 10)).items] == [str(older)]


def test_a_page_of_only_unwanted_tickets_moves_on_instead_of_ending_the_run(fake: FakeZendesk,
                                                                             helpdesk: ZendeskHelpdesk) -> None:
    for number in range(6):
        ticket(fake, f"Closed {number}", status="closed")
    wanted = ticket(fake, "Open one", status="open")
    page = run(helpdesk.list_changed(None, 2))
    assert [t.id for t in page.items] == [str(wanted)]
    assert len(fake.sent("GET", ".*/incremental/tickets/cursor")) == 4


def test_statuses_come_from_the_settings_and_deleted_tickets_never_appear(fake: FakeZendesk,
                                                                          workspace: Path) -> None:
    settings = zendesk_settings(workspace, '[zendesk]\nstatuses = ["new", "pending"]\n')
    new = ticket(fake, "New")
    ticket(fake, "Open", status="open")
    pending = ticket(fake, "Pending", status="pending")
    gone = ticket(fake, "Spam")
    fake.delete(gone)
    page = run(open_helpdesk(fake, settings).list_changed(None, 100))
    assert sorted(t.id for t in page.items) == sorted([str(new), str(pending)])
    assert {t.status for t in page.items} == {"new", "pending"}


def test_a_listed_ticket_carries_the_first_comment_requester_and_organization_plan_and_mrr(
        fake: FakeZendesk, workspace: Path) -> None:
    tiers = fake.add_organization("Globex", tier="business", monthly_revenue=1200)
    user = fake.add_user("Gil Globex", "gil@globex.example", organization_id=tiers)
    ticket_id = fake.add_ticket("Export crashes", "The CSV export crashes every time", requester_id=user,
                                tags=["mobile"], priority="low")
    fake._comment(ticket_id, fake.admin, "an agent reply", public=True)
    solo = ticket(fake, "No organization", solo=True)
    settings = zendesk_settings(workspace, '[zendesk]\nplan_field = "tier"\nmrr_field = "monthly_revenue"\n')
    page = run(open_helpdesk(fake, settings).list_changed(None, 100))
    found = {t.id: t for t in page.items}
    listed = found[str(ticket_id)]
    assert listed.description == "The CSV export crashes every time"
    assert listed.subject == "Export crashes" and listed.tags == ("mobile",) and listed.priority == "low"
    assert (listed.requester.name, listed.requester.email) == ("Gil Globex", "gil@globex.example")
    assert listed.company is not None
    assert (listed.company.name, listed.company.plan, listed.company.mrr) == ("Globex", "business", 1200.0)
    assert listed.source == "zendesk" and listed.status == "new" and listed.created_at is not None
    assert found[str(solo)].company is None
    # Customer context came sideloaded with the page: no request per ticket, user or organization.
    assert len(fake.requests) == 1


def test_mrr_written_as_text_is_read_as_a_number(fake: FakeZendesk, helpdesk: ZendeskHelpdesk) -> None:
    ticket(fake, "Invoice question")
    [listed] = run(helpdesk.list_changed(None, 10)).items
    assert listed.company is not None and listed.company.mrr == 9000.5 and listed.company.plan == "enterprise"


# -- ids as JSON bridges return them (106.0) and listed entries that cannot be read ------------------
def test_tickets_listed_with_float_ids_keep_their_id_requester_and_organization(
        fake: FakeZendesk, helpdesk: ZendeskHelpdesk) -> None:
    fake.float_ids = True
    first, second = ticket(fake, "Locked out"), ticket(fake, "Solo", solo=True)
    page = run(helpdesk.list_changed(None, 10))
    found = {t.id: t for t in page.items}
    assert sorted(found) == sorted([str(first), str(second)]) and not page.unreadable
    listed = found[str(first)]
    assert listed.requester.name == "Ann Customer"
    assert listed.company is not None and listed.company.name == "Acme" and listed.company.mrr == 9000.5
    got = run(helpdesk.get(str(first)))
    assert got.id == str(first) and got.company is not None and got.messages[0].author is Author.CUSTOMER


def test_float_ids_are_written_back_as_integers_single_and_in_bulk(fake: FakeZendesk, workspace: Path) -> None:
    fake.float_ids = True
    helpdesk = open_helpdesk(fake, zendesk_settings(workspace, "[zendesk]\nbulk_threshold = 2\n"))
    ids = [ticket(fake, f"Ticket {n}") for n in range(4)]
    [single] = run(helpdesk.write_back([update(ids[0])]))
    assert single.error is None and single.remote_ref and ".0" not in single.remote_ref
    bulk = run(helpdesk.write_back([update(i) for i in ids[1:]]))
    assert all(r.error is None for r in bulk), bulk
    assert fake.sent("PUT", r".*/update_many")
    assert all(len(fake.private_notes(i)) == 1 for i in ids)
    for request in fake.sent("PUT", r".*/update_many"):
        assert all(isinstance(t["id"], int) for t in body_of(request)["tickets"])
    assert fake.violations == []


@pytest.mark.parametrize(("listed", "named"), [({"id": "abc"}, "abc"), ({"id": None}, "position"),
                                               ({"id": 4.5}, "4.5"), ("oops", "position")])
def test_a_listed_ticket_that_cannot_be_read_is_reported_not_dropped(
        fake: FakeZendesk, helpdesk: ZendeskHelpdesk, listed: Any, named: str) -> None:
    good = ticket(fake, "Readable")
    bad = ticket(fake, "Unreadable")
    fake.garble(bad, listed)
    page = run(helpdesk.list_changed(None, 10))
    assert [t.id for t in page.items] == [str(good)]
    [(label, reason)] = page.unreadable
    assert named in label and reason


def test_a_page_holding_only_an_unreadable_ticket_is_not_skipped(fake: FakeZendesk,
                                                                 helpdesk: ZendeskHelpdesk) -> None:
    bad = ticket(fake, "Unreadable")
    fake.garble(bad, {"id": "abc"})
    for number in range(3):
        ticket(fake, f"Later {number}")
    page = run(helpdesk.list_changed(None, 1))
    assert page.items == [] and [label for label, _ in page.unreadable] == ["abc"] and page.has_more


def test_get_returns_the_whole_thread_with_who_wrote_what(fake: FakeZendesk, helpdesk: ZendeskHelpdesk) -> None:
    ticket_id = ticket(fake, "Locked out")
    run(helpdesk.write_back([update(ticket_id)]))
    got = run(helpdesk.get(f"{ticket_id}.0"))
    assert got.id == str(ticket_id) and "auto_category:bug" in got.tags
    assert [(m.author, m.public) for m in got.messages] == [(Author.CUSTOMER, True), (Author.AGENT, False)]
    assert got.description == "Locked out: the first comment"


def test_get_of_a_missing_ticket_is_not_found_with_a_hint(helpdesk: ZendeskHelpdesk) -> None:
    with pytest.raises(NotFoundError, match="Check the ticket id"):
        run(helpdesk.get("424242"))
    with pytest.raises(NotFoundError, match="not a Zendesk ticket id"):
        run(helpdesk.get("ABC-1"))


# -- writing -------------------------------------------------------------------------------------
def test_write_back_keeps_existing_tags_and_adds_a_private_note_in_one_request(
        fake: FakeZendesk, helpdesk: ZendeskHelpdesk) -> None:
    ticket_id = ticket(fake, "Cannot log in", tags=("vip", "mobile"))
    [result] = run(helpdesk.write_back([update(ticket_id, custom_fields={"360001": "bug", "360002": "P1"})]))
    assert result.error is None and result.remote_ref and result.remote_ref.startswith("comment:")
    stored = fake.tickets[ticket_id]
    assert stored["tags"] == ["vip", "mobile", "auto_category:bug", "triaged_by_agent"]
    assert stored["priority"] == "high"
    assert {f["id"]: f["value"] for f in stored["custom_fields"]} == {360001: "bug", 360002: "P1"}
    assert fake.private_notes(ticket_id) == ["frontline triage\nSummary: broken\n[fl-" + f"{ticket_id}]"]
    assert [c["public"] for c in fake.comments[ticket_id]] == [True, False]  # the customer saw nothing
    assert len(fake.sent("PUT", r".*/tickets/\d+")) == 1


def test_a_backlog_goes_through_bulk_jobs_and_one_failed_ticket_fails_alone(
        fake: FakeZendesk, helpdesk: ZendeskHelpdesk) -> None:
    ids = [ticket(fake, f"Backlog {n}", tags=("old",)) for n in range(12)]
    fake.reject(ids[4], "Priority: is invalid for this form")
    results = run(helpdesk.write_back([update(i) for i in ids] + [update(999_999)]))
    assert [r.ticket_id for r in results] == [*map(str, ids), "999999"]
    failed = {r.ticket_id: str(r.error) for r in results if r.error is not None}
    assert set(failed) == {str(ids[4]), "999999"}
    assert "Priority: is invalid for this form" in failed[str(ids[4])]
    assert "TicketNotFound" in failed["999999"]
    for ticket_id in ids:
        expected = [] if ticket_id == ids[4] else [f"fl-{ticket_id}"]
        assert [re.search(r"\[(fl-\d+)\]", n).group(1) for n in fake.private_notes(ticket_id)] == expected  # type: ignore[union-attr]
        assert fake.tickets[ticket_id]["tags"][0] == "old"
    assert len(fake.sent("PUT", r".*/tickets/update_many")) == 1
    assert len(fake.sent("PUT", r".*/tickets/\d+")) == 0
    assert len(fake.sent("GET", r".*/job_statuses/.*")) == 2  # "working", then "completed"


def test_a_backlog_over_100_tickets_is_split_into_jobs_of_100(fake: FakeZendesk,
                                                              helpdesk: ZendeskHelpdesk) -> None:
    ids = [ticket(fake, f"Old {n}") for n in range(150)]
    results = run(helpdesk.write_back([update(i) for i in ids]))
    assert all(r.error is None for r in results)
    sizes = [len(body_of(r)["tickets"]) for r in fake.sent("PUT", r".*/tickets/update_many")]
    assert sizes == [100, 50]
    assert all(len(fake.private_notes(i)) == 1 for i in ids)


def test_a_job_that_never_finishes_fails_its_tickets_without_raising(workspace: Path) -> None:
    fake = FakeZendesk(job_polls=1_000)
    user = fake.add_user("Ann", "ann@example.com")
    ids = [fake.add_ticket(f"T{n}", "body", requester_id=user) for n in range(10)]
    results = run(open_helpdesk(fake, zendesk_settings(workspace)).write_back([update(i) for i in ids]))
    assert all(r.error is not None and "did not finish" in str(r.error) for r in results)


def test_a_rate_limited_read_or_write_waits_for_retry_after_and_lands_once(fake: FakeZendesk,
                                                                           helpdesk: ZendeskHelpdesk) -> None:
    ticket_id = ticket(fake, "Slow down")
    fake.fail(429, headers={"Retry-After": "0"}, on=EXPORT)
    assert [t.id for t in run(helpdesk.list_changed(None, 10)).items] == [str(ticket_id)]
    fake.fail(429, headers={"Retry-After": "0"}, on=r"PUT .*/tickets/\d+")
    [result] = run(helpdesk.write_back([update(ticket_id)]))
    assert result.error is None and len(fake.private_notes(ticket_id)) == 1
    assert len(fake.sent("PUT", r".*/tickets/\d+")) == 2


def test_server_errors_are_retried_on_reads_and_writes(fake: FakeZendesk, helpdesk: ZendeskHelpdesk) -> None:
    ticket_id = ticket(fake, "Flaky")
    fake.fail(502, times=2, on=EXPORT)
    assert [t.id for t in run(helpdesk.list_changed(None, 10)).items] == [str(ticket_id)]
    fake.fail(503, on=r"PUT .*/tickets/\d+")
    [result] = run(helpdesk.write_back([update(ticket_id)]))
    assert result.error is None and len(fake.private_notes(ticket_id)) == 1


def test_a_write_whose_answer_was_lost_is_not_written_twice(fake: FakeZendesk, helpdesk: ZendeskHelpdesk) -> None:
    ticket_id = ticket(fake, "Timeout")
    fake.lose_answer(on=r"PUT .*/tickets/\d+")
    [result] = run(helpdesk.write_back([update(ticket_id)]))
    assert result.error is None and result.remote_ref == run(helpdesk.find_marker(str(ticket_id), f"fl-{ticket_id}"))
    assert len(fake.private_notes(ticket_id)) == 1


def test_a_refused_update_is_reported_for_that_ticket_only(fake: FakeZendesk, helpdesk: ZendeskHelpdesk) -> None:
    good, bad = ticket(fake, "Good"), ticket(fake, "Bad")
    fake.reject(bad, "Custom field 360001: value is not an option")
    results = run(helpdesk.write_back([update(good), update(bad)]))
    assert results[0].error is None
    assert results[1].error is not None and "value is not an option" in str(results[1].error)
    assert "[zendesk.custom_fields]" in str(results[1].error)
    assert fake.private_notes(bad) == []


# -- errors --------------------------------------------------------------------------------------
def test_a_revoked_token_is_an_auth_error_saying_how_to_fix_it(fake: FakeZendesk, helpdesk: ZendeskHelpdesk) -> None:
    ids = [ticket(fake, f"Ticket {n}") for n in range(9)]  # below the bulk threshold: one request each
    fake.revoke()
    with pytest.raises(AuthError) as caught:
        run(helpdesk.list_changed(None, 10))
    message = str(caught.value)
    assert caught.value.status == 401 and "rejected" in message and "Couldn't authenticate you" in message
    assert "ZENDESK_API_TOKEN" in message and "acme.zendesk.com" in message
    before = len(fake.requests)
    results = run(helpdesk.write_back([update(i) for i in ids]))
    assert all(isinstance(r.error, AuthError) for r in results)
    # Once refused, the token is not tried again for every ticket waiting behind the first ones.
    assert len(fake.requests) - before < 2 * len(ids)


def test_a_revoked_token_fails_a_whole_backlog_without_knocking_once_per_job(fake: FakeZendesk,
                                                                            helpdesk: ZendeskHelpdesk) -> None:
    ids = [ticket(fake, f"Old {n}") for n in range(250)]
    fake.revoke()
    results = run(helpdesk.write_back([update(i) for i in ids]))
    assert all(isinstance(r.error, AuthError) and "ZENDESK_API_TOKEN" in str(r.error) for r in results)
    assert len(fake.sent("PUT", r".*/tickets/update_many")) == 2  # refused, then refused after a refresh


def test_a_wrong_subdomain_is_not_found_with_a_hint(fake: FakeZendesk, workspace: Path) -> None:
    helpdesk = open_helpdesk(fake, zendesk_settings(workspace, ZENDESK_SUBDOMAIN="acmee"))
    with pytest.raises(NotFoundError) as caught:
        run(helpdesk.list_changed(None, 10))
    assert "No help desk answers at https://acmee.zendesk.com" in str(caught.value)
    assert "ZENDESK_SUBDOMAIN" in str(caught.value) and caught.value.status == 404


def test_a_missing_token_permission_is_an_auth_error_about_roles(fake: FakeZendesk,
                                                                 helpdesk: ZendeskHelpdesk) -> None:
    fake.forbidden = True
    with pytest.raises(AuthError, match="admin") as caught:
        run(helpdesk.list_changed(None, 10))
    assert caught.value.status == 403


def test_no_subdomain_is_a_config_error_naming_the_setting(fake: FakeZendesk, workspace: Path) -> None:
    settings = zendesk_settings(workspace, ZENDESK_SUBDOMAIN="")
    with pytest.raises(ConfigError, match=r"zendesk.subdomain.*ZENDESK_SUBDOMAIN"):
        open_helpdesk(fake, settings)


def test_custom_field_settings_are_checked_when_the_adapter_opens(fake: FakeZendesk, workspace: Path) -> None:
    named = zendesk_settings(workspace, '[writeback.custom_fields]\ncategory = "{category}"\n')
    with pytest.raises(ConfigError, match=r"writeback.custom_fields.category.*numeric id"):
        open_helpdesk(fake, named)
    broken = zendesk_settings(workspace, '[zendesk.custom_fields]\n360001 = "{categroy}"\n')
    with pytest.raises(ConfigError, match=r"zendesk.custom_fields.360001"):
        open_helpdesk(fake, broken)
    fine = zendesk_settings(workspace, '[zendesk.custom_fields]\n360001 = "{category}"\n')
    assert open_helpdesk(fake, fine).field_templates == {"360001": "{category}"}


def test_a_base_url_override_reaches_a_proxy_path(workspace: Path) -> None:
    fake = FakeZendesk(host="proxy.example", prefix="/zendesk")
    user = fake.add_user("Ann", "ann@example.com")
    ticket_id = fake.add_ticket("Via proxy", "hello", requester_id=user)
    helpdesk = open_helpdesk(fake, zendesk_settings(workspace, ZENDESK_BASE_URL="https://proxy.example/zendesk"))
    assert [t.id for t in run(helpdesk.list_changed(None, 5)).items] == [str(ticket_id)]
    assert run(helpdesk.write_back([update(ticket_id)]))[0].error is None
    assert fake.violations == [] and fake.unknown == []


def test_the_adapter_works_over_real_loopback_sockets(workspace: Path) -> None:
    fake = FakeZendesk(host=None)
    user = fake.add_user("Ann", "ann@example.com")
    ticket_id = fake.add_ticket("Over sockets", "hello", requester_id=user, tags=["keep"])

    async def go(base: str) -> list[str]:
        async with httpx.AsyncClient() as http:
            helpdesk = open_helpdesk(fake, zendesk_settings(workspace, ZENDESK_BASE_URL=base), http)
            page = await helpdesk.list_changed(None, 5)
            await helpdesk.write_back([update(int(t.id)) for t in page.items])
            return [t.id for t in page.items]

    with serve(fake) as base:
        assert run(go(base)) == [str(ticket_id)]
    assert fake.tickets[ticket_id]["tags"][0] == "keep" and len(fake.private_notes(ticket_id)) == 1


# -- crash recovery ------------------------------------------------------------------------------
def test_find_marker_finds_the_private_note_only(fake: FakeZendesk, helpdesk: ZendeskHelpdesk) -> None:
    ticket_id = ticket(fake, "Marker")
    customer = fake.tickets[ticket_id]["requester_id"]
    fake._comment(ticket_id, customer, "I pasted [fl-public] in a public reply", public=True)
    assert run(helpdesk.find_marker(str(ticket_id), "fl-public")) is None
    [written] = run(helpdesk.write_back([update(ticket_id, marker="fl-abc")]))
    for n in range(130):  # the note is now behind more than one page of newer comments
        fake._comment(ticket_id, customer, f"follow-up {n}", public=True)
    assert run(helpdesk.find_marker(str(ticket_id), "fl-abc")) == written.remote_ref
    assert run(helpdesk.find_marker(str(ticket_id), "fl-other")) is None


# -- doctor --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("setup", "ok", "detail", "fix"), [
    (lambda fake, env: None, True, "ACTIVE: signed in as Ada Admin <ada@acme.example> (admin) on "
                                   "https://acme.zendesk.com", ""),
    (lambda fake, env: fake.revoke(), False, "rejected the credentials", "ZENDESK_API_TOKEN"),
    (lambda fake, env: env.update(ZENDESK_SUBDOMAIN="acmee"), False, "no help desk answers at "
                                                                     "https://acmee.zendesk.com", "ZENDESK_SUBDOMAIN"),
    (lambda fake, env: env.update(ZENDESK_EMAIL=ANN), False, "rejected the credentials",
     "ZENDESK_EMAIL"),
    (lambda fake, env: env.update(ZENDESK_API_TOKEN=""), False, "no credentials", "ZENDESK_API_TOKEN"),
    (lambda fake, env: setattr(fake, "forbidden", True), False, "refused the token", "admin"),
    (lambda fake, env: fake.issue_token(fake.user_id(ANN), ADMIN_TOKEN) or env.update(ZENDESK_EMAIL=ANN),
     False, "an end user, not an agent", "admin"),
    (lambda fake, env: fake.issue_token(fake.add_user("Al Agent", "al@acme.example", role="agent"), ADMIN_TOKEN)
     or env.update(ZENDESK_EMAIL="al@acme.example"), False, "admins only", "admin's email"),
], ids=["active", "revoked", "wrong-subdomain", "wrong-email", "no-token", "forbidden", "end-user", "agent"])
def test_diagnose_says_who_is_signed_in_where_or_what_to_fix(fake: FakeZendesk, workspace: Path, setup: Any,
                                                             ok: bool, detail: str, fix: str) -> None:
    env = dict(ENV)
    setup(fake, env)
    [check] = run(open_helpdesk(fake, zendesk_settings(workspace, **env)).diagnose())
    assert check.ok is ok and detail in check.detail and fix in check.fix
    assert len(fake.requests) <= 2


# -- contract ------------------------------------------------------------------------------------
def test_every_request_the_adapter_sends_matches_the_zendesk_spec(fake: FakeZendesk, workspace: Path) -> None:
    settings = zendesk_settings(workspace, '[zendesk]\nbulk_threshold = 3\n')
    helpdesk = open_helpdesk(fake, settings)
    ids = [ticket(fake, f"Contract {n}") for n in range(4)]
    fields = {"custom_fields": {"360001": "bug"}}
    run(helpdesk.list_changed(None, 2))
    run(helpdesk.write_back([update(ids[0], **fields)]))  # one ticket: PUT /tickets/{id}
    run(helpdesk.write_back([update(i, **fields) for i in ids[1:]]))  # a backlog: update_many + job status
    run(helpdesk.write_back([update(ids[0], marker="fl-x", priority=None, add_tags=())]))
    run(helpdesk.find_marker(str(ids[0]), "fl-x"))
    run(helpdesk.get(str(ids[1])))
    run(helpdesk.diagnose())
    kinds = {(r.method, re.sub(r"(?<=/)([0-9a-f]{32}|\d+)(?=/|$)", "N", r.url.path)) for r in fake.requests}
    assert kinds == {("GET", "/api/v2/incremental/tickets/cursor"), ("PUT", "/api/v2/tickets/N"),
                     ("PUT", "/api/v2/tickets/update_many"), ("GET", "/api/v2/job_statuses/N"),
                     ("GET", "/api/v2/job_statuses"),
                     ("GET", "/api/v2/tickets/N/comments"), ("GET", "/api/v2/tickets/N"),
                     ("GET", "/api/v2/users/me")}
    assert fake.violations == [] and fake.unknown == []
    assert all(len(fake.private_notes(i)) >= 1 for i in ids)


@pytest.mark.parametrize(("path", "body", "wrong"), [
    ("/api/v2/tickets/{id}", {"ticket": {"additonal_tags": ["x"]}}, "ticket/additonal_tags"),
    ("/api/v2/tickets/{id}", {"ticket": {"comment": {"body": "n", "private": True}}}, "ticket/comment/private"),
    ("/api/v2/tickets/{id}", {"ticket": {"priority": "P1"}}, "ticket/priority"),
    ("/api/v2/tickets/update_many", {"tickets": [{"id": 1, "custom_fields": [{"field": 1, "value": "x"}]}]},
     "custom_fields/0/field"),
    ("/api/v2/tickets/update_many", {"tickets": [{"tags_to_add": ["x"]}]}, "tickets/0"),
], ids=["misspelt-tag-field", "wrong-comment-flag", "invalid-priority", "wrong-custom-field-key", "missing-id"])
def test_the_contract_refuses_a_wrong_field(fake: FakeZendesk, path: str, body: dict[str, Any], wrong: str) -> None:
    ticket_id = ticket(fake, "Target")

    async def send() -> httpx.Response:
        async with fake.client() as http:
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            return await http.put(f"https://acme.zendesk.com{path.format(id=ticket_id)}", json=body,
                                  headers=headers)

    response = run(send())
    assert response.status_code == 400
    assert len(fake.violations) == 1 and wrong in fake.violations[0]
    assert fake.private_notes(ticket_id) == [] and fake.tickets[ticket_id]["tags"] == []


def test_a_first_run_reads_only_the_lookback_window(fake: FakeZendesk, workspace: Path) -> None:
    ticket(fake, "Recent crash")
    recent = open_helpdesk(fake, zendesk_settings(workspace))
    assert [t.subject for t in run(recent.list_changed(None, 50)).items] == ["Recent crash"]
    sent = int(fake.sent("GET", r".*/incremental/tickets/cursor")[-1].url.params["start_time"])
    assert abs(sent - (time.time() - 30 * 86_400)) < 120
    everything = open_helpdesk(fake, zendesk_settings(workspace, "[zendesk]\nlookback_days = 0\n"))
    run(everything.list_changed(None, 50))
    assert fake.sent("GET", r".*/incremental/tickets/cursor")[-1].url.params["start_time"] == "0"
