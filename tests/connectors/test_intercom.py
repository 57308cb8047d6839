"""The Intercom conversation source against a stateful fake Intercom whose every request body is checked by the spec."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from frontline.config import Settings, load_settings
from frontline.connectors.intercom import IntercomConversations
from frontline.credentials import open_credentials
from frontline.errors import AuthError, ConnectorError, NotFoundError
from frontline.model import Author, Conversation
from frontline.ports import Conversations, Diagnosable, Page
from tests.contract import SPEC_URI, _nullable_to_json_schema
from tests.fakes.base import body_of, serve
from tests.fakes.intercom import APP_ID, TOKEN, FakeIntercom, intercom_contract
from tests.helpers import make_settings, run

ENV = {"INTERCOM_ACCESS_TOKEN": TOKEN}
SEARCH = "POST /conversations/search"
ANN, SOL = "ann@acme.example", "sol@example.com"


def intercom_settings(workspace: Path, toml: str = "", **env: str) -> Settings:
    make_settings(workspace, toml)
    return load_settings(workspace / "frontline.toml", environ={**ENV, **env}, dotenv=None)


def open_source(fake: FakeIntercom, settings: Settings, http: httpx.AsyncClient | None = None
                ) -> IntercomConversations:
    return IntercomConversations.from_settings(settings, http=http or fake.client(),
                                               credentials=open_credentials(settings))


def clean(fake: FakeIntercom) -> None:
    """Every request matched the spec and a route."""
    assert fake.violations == [] and fake.unknown == []


class Acme(FakeIntercom):
    """A workspace with one enterprise customer (Ann at Acme) and one without a company (Sol)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        acme = self.add_company("Acme", plan="Enterprise", monthly_spend=9000, lifecycle="customer")
        self.ann = self.add_contact("Ann Customer", ANN, company=acme)
        self.sol = self.add_contact("Sol Trader", SOL)


@pytest.fixture
def fake() -> Acme:
    """The Acme workspace."""
    return Acme()


@pytest.fixture
def settings(workspace: Path) -> Settings:
    """Settings with an access token for api.intercom.io."""
    return intercom_settings(workspace)


@pytest.fixture
def source(fake: Acme, settings: Settings) -> IntercomConversations:
    """The adapter on the fake."""
    return open_source(fake, settings)


def chat(fake: Acme, text: str, *, who: str | None = None, **kwargs: Any) -> str:
    return fake.add_conversation(who or fake.ann, [("customer", text)], **kwargs)


def every_page(source: IntercomConversations, cursor: str | None, limit: int) -> Iterator[Page[Conversation]]:
    while True:
        page = run(source.list_changed(cursor, limit))
        yield page
        cursor = page.cursor
        if not page.has_more:
            return


def ids(pages: Iterator[Page[Conversation]] | list[Page[Conversation]]) -> list[list[str]]:
    return [[c.id for c in page.items] for page in pages]


# -- listing -------------------------------------------------------------------------------------
def test_search_reads_oldest_update_first_and_a_saved_cursor_resumes_without_gaps(
        fake: Acme, settings: Settings) -> None:
    first, second, third = chat(fake, "First"), chat(fake, "Second"), chat(fake, "Third")
    source = open_source(fake, settings)
    assert isinstance(source, Conversations) and isinstance(source, Diagnosable)
    pages = list(every_page(source, None, 2))
    assert ids(pages) == [[first, second], [third]]
    searched = body_of(fake.sent("POST", "/conversations/search")[0])
    assert searched["sort"] == {"field": "updated_at", "order": "ascending"}
    assert searched["pagination"]["per_page"] == 2

    # The next run (a new adapter) resumes from the saved cursor: only what changed since, oldest first.
    later = chat(fake, "Arrived later")
    fake.reply(first, "customer", "Any news?")
    resumed = run(open_source(fake, settings).list_changed(pages[-1].cursor, 50))
    assert [c.id for c in resumed.items] == [later, first] and not resumed.has_more
    assert run(open_source(fake, settings).list_changed(resumed.cursor, 50)).items == []
    clean(fake)


@pytest.mark.parametrize("inclusive", [True, False], ids=["greater-or-equal", "strictly-greater"])
def test_conversations_updated_in_the_same_second_are_never_skipped(workspace: Path, inclusive: bool) -> None:
    fake = FakeIntercom(inclusive=inclusive)
    contact = fake.add_contact("Ann", ANN)
    second = fake.tick()
    before = fake.add_conversation(contact, [("customer", "Earlier")], created_at=second - 1)
    together = [fake.add_conversation(contact, [("customer", f"Same second {n}")], created_at=second)
                for n in range(5)]
    settings = intercom_settings(workspace)
    pages = list(every_page(open_source(fake, settings), None, 2))
    read = [i for page in ids(pages) for i in page]
    assert read == [before, *together]  # each once, none skipped, though pages end inside the second
    assert pages[-1].cursor == f"{second}:{','.join(together)}@{APP_ID}"  # the second and who was read in it
    # Once a page shows that ">" includes its bound, searches ask from the second itself.
    lower = body_of(fake.sent("POST", "/conversations/search")[-1])["query"]["value"][0]["value"]
    assert lower == (second if inclusive else second - 1)

    # More conversations changed in that same second after the cursor was saved: found, nothing read twice.
    late = fake.add_conversation(contact, [("customer", "Same second, indexed late")], created_at=second)
    resumed = run(open_source(fake, settings).list_changed(pages[-1].cursor, 10))
    assert [c.id for c in resumed.items] == [late]
    clean(fake)


def test_a_second_holding_more_than_a_page_of_conversations_is_read_through(fake: Acme,
                                                                            source: IntercomConversations) -> None:
    second = fake.tick()
    crowd = [chat(fake, f"Crowd {n}", created_at=second) for n in range(153)]
    first = run(source.list_changed(None, 150))
    assert [c.id for c in first.items] == crowd[:150] and first.has_more
    rest = run(source.list_changed(first.cursor, 10))
    assert [c.id for c in rest.items] == crowd[150:]
    # The second search's first page held only conversations already read: it was left by starting_after.
    assert body_of(fake.sent("POST", "/conversations/search")[-1])["pagination"]["starting_after"]
    clean(fake)


def test_a_conversation_changed_while_pages_are_read_comes_back_and_nothing_is_skipped(
        fake: Acme, source: IntercomConversations) -> None:
    ordered = [chat(fake, f"Conversation {n}") for n in range(6)]
    first = run(source.list_changed(None, 2))
    # Between two pages the first conversation gets a reply: in Intercom's stateless search every
    # later result moves up one place, which is how a page-number cursor skips a conversation.
    fake.after_next_search(lambda: fake.reply(ordered[0], "customer", "Hello again"))
    rest = [c.id for page in every_page(source, first.cursor, 2) for c in page.items]
    assert [c.id for c in first.items] + rest == [*ordered, ordered[0]]
    clean(fake)


def test_a_batch_larger_than_a_page_reads_on_past_a_change_between_its_pages(fake: Acme,
                                                                            source: IntercomConversations) -> None:
    ordered = [chat(fake, f"Conversation {n}") for n in range(160)]
    # While the first page of 150 is read, the first conversation changes: following Intercom's
    # starting_after would now skip the 151st; a new search from the position read so far cannot.
    fake.after_next_search(lambda: fake.reply(ordered[0], "customer", "Hello again"))
    page = run(source.list_changed(None, 200))
    assert [c.id for c in page.items] == [*ordered, ordered[0]] and not page.has_more
    assert [body_of(r)["pagination"]["starting_after"] for r in fake.sent("POST", "/conversations/search")] == \
        [None, None]
    clean(fake)


def test_a_first_run_reads_the_lookback_window_and_waits_for_fresh_updates_to_settle(
        fake: Acme, workspace: Path) -> None:
    old = chat(fake, "Three days ago", created_at=int(time.time()) - 80 * 3600)
    recent = chat(fake, "Yesterday")
    just_now = chat(fake, "A moment ago", created_at=int(time.time()) - 5)
    page = run(open_source(fake, intercom_settings(workspace)).list_changed(None, 50))
    assert [c.id for c in page.items] == [recent]
    query = body_of(fake.sent("POST", "/conversations/search")[-1])["query"]["value"]
    assert abs(query[0]["value"] - (time.time() - 72 * 3600)) < 120  # escalation.lookback_hours
    assert abs(query[1]["value"] - (time.time() - 60)) < 120  # intercom.settle_seconds
    # Once settled, the update younger than the window is read; the older one never is.
    wider = intercom_settings(workspace, "[intercom]\nsettle_seconds = 0\n")
    later = run(open_source(fake, wider).list_changed(page.cursor, 50))
    assert [c.id for c in later.items] == [just_now] and old not in [c.id for c in later.items]
    clean(fake)


def test_a_cursor_saved_for_another_workspace_starts_over_instead_of_skipping(fake: Acme,
                                                                            source: IntercomConversations) -> None:
    older = chat(fake, "Older than the other workspace's cursor")
    foreign = f"{int(time.time())}:1,2@another-app"
    assert [c.id for c in run(source.list_changed(foreign, 10)).items] == [older]
    assert [c.id for c in run(source.list_changed("not a cursor", 10)).items] == [older]
    clean(fake)


def test_a_conversation_deleted_after_it_was_listed_is_left_out(fake: Acme, source: IntercomConversations) -> None:
    kept, deleted = chat(fake, "Kept"), chat(fake, "Spam")
    fake.fail(404, on=f"GET /conversations/{deleted}")  # deleted, but the search index still lists it
    page = run(source.list_changed(None, 10))
    assert [c.id for c in page.items] == [kept]
    assert run(source.list_changed(page.cursor, 10)).items == []  # the cursor moved past both
    clean(fake)


def test_conversations_listed_with_float_ids_are_read_noted_and_not_listed_again(
        fake: Acme, source: IntercomConversations) -> None:
    fake.float_ids = True  # ids as JSON bridges return them: 7005.0
    first, second = chat(fake, "First"), chat(fake, "Second", who=fake.sol)
    page = run(source.list_changed(None, 10))
    assert ids([page]) == [[first, second]] and not page.unreadable
    listed = page.items[0]
    assert listed.contact.name == "Ann Customer" and listed.company is not None and listed.company.name == "Acme"
    assert listed.url.endswith(f"/conversation/{first}")
    reference = run(source.add_note(first, "Escalated", "fl-float"))
    assert reference.startswith("part:") and not reference.endswith(".0")
    sent = body_of(fake.sent("POST", r"/conversations/\d+/reply")[0])
    assert sent["admin_id"] == fake.admin  # the admin /me named as 7001.0, sent as Intercom's string id
    assert run(source.find_note(first, "fl-float")) == reference
    assert run(source.get(second)).id == second
    assert ids([run(source.list_changed(page.cursor, 10))]) == [[first]]  # the note updated it; nothing else
    clean(fake)


@pytest.mark.parametrize(("listed", "named"), [({"id": "abc"}, "abc"), ({"id": None}, "position"),
                                               ({"updated_at": "soon"}, "{id}"), ("oops", "position")])
def test_a_listed_conversation_that_cannot_be_read_is_reported_not_dropped(
        fake: Acme, source: IntercomConversations, listed: Any, named: str) -> None:
    good, bad = chat(fake, "Readable"), chat(fake, "Unreadable")
    fake.garble(bad, listed)
    page = run(source.list_changed(None, 10))
    assert ids([page]) == [[good]]
    [(label, reason)] = page.unreadable
    assert named.format(id=bad) in label and "next run" in reason
    clean(fake)


def test_parts_keep_who_wrote_what_and_the_html_is_reduced_to_text(fake: Acme,
                                                                   source: IntercomConversations) -> None:
    conversation = fake.add_conversation(fake.ann, [
        ("customer", "The <b>export</b> crashes"), ("bot", "Have you tried a smaller range?"),
        ("customer", "Yes, still broken"), ("assignment",), ("admin", "Looking into it"),
        ("note", "Looks like ENG-42"), ("close",)])
    [listed] = run(source.list_changed(None, 10)).items
    assert [(p.author, p.kind, p.body, p.author_name) for p in listed.parts] == [
        (Author.CUSTOMER, "comment", "The export crashes", "Ann Customer"),
        (Author.BOT, "comment", "Have you tried a smaller range?", "Fin"),
        (Author.CUSTOMER, "comment", "Yes, still broken", "Ann Customer"),
        (Author.AGENT, "assignment", "", "Ada Admin"),
        (Author.AGENT, "comment", "Looking into it", "Ada Admin"),
        (Author.AGENT, "note", "Looks like ENG-42", "Ada Admin"),
        (Author.AGENT, "close", "", "Ada Admin"),
    ]
    assert [p.body for p in listed.customer_messages()] == ["The export crashes", "Yes, still broken"]
    assert listed.state == "closed" and listed.source == "intercom" and listed.reopened == 0
    assert listed.created_at is not None and listed.updated_at is not None
    assert listed.created_at < listed.updated_at == listed.parts[-1].created_at
    assert listed.url == f"https://app.intercom.com/a/inbox/{APP_ID}/inbox/conversation/{conversation}"
    assert (listed.contact.name, listed.contact.email) == ("Ann Customer", ANN)
    assert run(source.get(conversation)).parts == listed.parts
    clean(fake)


@pytest.mark.parametrize("statistics", [True, False], ids=["with-statistics", "statistics-null"])
def test_reopened_counts_each_return_after_a_close(fake: Acme, source: IntercomConversations,
                                                   statistics: bool) -> None:
    fake.statistics = statistics
    conversation = fake.add_conversation(fake.ann, [
        ("customer", "Broken"), ("close",), ("open",),  # a teammate reopened it
        ("close",), ("customer", "Still broken!"),  # the customer wrote again: Intercom reopens it
        ("open",),  # already open: not a reopening
        ("note", "closed twice already"), ("close",)])
    got = run(source.get(conversation))
    assert got.reopened == 2 and got.state == "closed"
    clean(fake)


def test_the_company_gives_plan_mrr_and_lifecycle_read_once_per_run(fake: Acme, workspace: Path) -> None:
    globex = fake.add_company("Globex", monthly_spend=1200, tier="business", stage="trial")
    gil = fake.add_contact("Gil Globex", "gil@globex.example", company=globex)
    for n in range(3):
        chat(fake, f"Globex question {n}", who=gil)
    chat(fake, "Acme question")
    settings = intercom_settings(workspace, '[intercom]\nplan_attribute = "tier"\nlifecycle_attribute = "stage"\n')
    page = run(open_source(fake, settings).list_changed(None, 10))
    companies = [c.company for c in page.items]
    assert [(c.name, c.plan, c.mrr, c.lifecycle) for c in companies if c] == [
        ("Globex", "business", 1200.0, "trial")] * 3 + [("Acme", "Enterprise", 9000.0, None)]
    assert all(c.company_note == "" for c in page.items)
    # Each contact and company was read once, not once per conversation.
    assert len(fake.sent("GET", "/contacts/.*")) == 2 and len(fake.sent("GET", "/companies/.*")) == 2
    clean(fake)


@pytest.mark.parametrize("status", [403, 401], ids=["forbidden", "token-unauthorized"])
def test_companies_the_token_cannot_read_are_said_in_the_company_note(fake: Acme,
                                                                      source: IntercomConversations,
                                                                      status: int) -> None:
    fake.forbid_companies(status)
    for n in range(3):
        chat(fake, f"Question {n}")
    page = run(source.list_changed(None, 10))
    assert [c.company for c in page.items] == [None] * 3
    assert {c.company_note for c in page.items} == {
        "the token cannot read companies (403): add the Read and list users and companies permission to the "
        "Intercom app in the Developer Hub"}
    assert all(c.contact.email == ANN for c in page.items)  # the contact is still known
    refused = len(fake.sent("GET", "/companies/.*"))
    assert refused == 2  # refused, then refused again with a refreshed token

    # The refusal is remembered: the next poll asks for no company, and still says why.
    globex = fake.add_company("Globex", monthly_spend=500)
    later = chat(fake, "Another company", who=fake.add_contact("Gil", "gil@globex.example", company=globex))
    [listed] = run(source.list_changed(page.cursor, 10)).items
    assert listed.id == later and listed.company is None and "cannot read companies" in listed.company_note
    assert len(fake.sent("GET", "/companies/.*")) == refused
    clean(fake)


def test_a_missing_contact_or_company_is_said_in_the_company_note(fake: Acme, settings: Settings) -> None:
    no_company = chat(fake, "I have no company", who=fake.sol)
    anonymous = fake.add_conversation(None, [("customer", "Who am I?")])
    listed = {c.id: c for c in run(open_source(fake, settings).list_changed(None, 10)).items}
    assert listed[anonymous].company_note == "the conversation has no contact"
    assert listed[no_company].company_note == "the contact has no company in Intercom"
    assert listed[no_company].contact.name == "Sol Trader" and listed[no_company].company is None

    fake.forbid("contacts")
    unreadable = chat(fake, "My contact cannot be read")
    got = run(open_source(fake, settings).get(unreadable))
    assert got.company is None and got.company_note.startswith("the token cannot read contacts (403)")
    # The opening message's author still names the customer when the contact cannot be read.
    assert (got.contact.name, got.contact.email) == ("Ann Customer", ANN)
    clean(fake)


# -- notes ---------------------------------------------------------------------------------------
def test_a_note_is_a_private_admin_note_with_the_marker_and_find_note_finds_it(
        fake: Acme, source: IntercomConversations) -> None:
    conversation = chat(fake, "Please escalate")
    fake.reply(conversation, "customer", "I pasted [fl-public] in a reply")
    assert run(source.find_note(conversation, "fl-public")) is None  # not a note: the customer wrote it
    reference = run(source.add_note(conversation, "Escalated to ENG-42 (P0)\nSignals: keywords", "fl-abc"))
    assert reference.startswith("part:")
    [note] = fake.notes(conversation)
    assert note == "<p>Escalated to ENG-42 (P0)<br>Signals: keywords</p><p>[fl-abc]</p>"
    assert fake.seen_by_customer(conversation) == []  # a note, never a reply the customer sees
    sent = body_of(fake.sent("POST", r"/conversations/\d+/reply")[0])
    assert (sent["message_type"], sent["type"], sent["admin_id"]) == ("note", "admin", fake.admin)
    assert run(source.find_note(conversation, "fl-abc")) == reference
    assert run(source.find_note(conversation, "fl-other")) is None
    assert [p.kind for p in run(source.get(conversation)).parts][-1] == "note"
    clean(fake)


def test_notes_are_written_by_the_configured_admin(fake: Acme, workspace: Path) -> None:
    lead = fake.add_admin("Lee Lead", "lee@acme.example")
    conversation = chat(fake, "Hello")
    source = open_source(fake, intercom_settings(workspace, f'[intercom]\nadmin_id = "{lead}"\n'))
    run(source.add_note(conversation, "<p>Already <b>HTML</b> [fl-1]</p>", "fl-1"))
    assert fake.parts[conversation][-1]["author"]["id"] == lead
    assert fake.notes(conversation) == ["<p>Already <b>HTML</b> [fl-1]</p>"]
    assert fake.sent("GET", "/me") == []  # the author was configured: no need to ask who the token is
    stranger = open_source(fake, intercom_settings(workspace, '[intercom]\nadmin_id = "999"\n'))
    with pytest.raises(NotFoundError, match=r"Admin not found.*\[intercom\] admin_id"):
        run(stranger.add_note(conversation, "Escalated", "fl-2"))
    assert len(fake.notes(conversation)) == 1
    clean(fake)


def test_a_token_that_may_not_read_its_admin_still_lists_and_notes_as_the_configured_admin(
        fake: Acme, workspace: Path) -> None:
    conversation = chat(fake, "Hello")
    fake.forbid("admins")
    [listed] = run(open_source(fake, intercom_settings(workspace)).list_changed(None, 5)).items
    assert listed.id == conversation and listed.url == ""  # no app id: no inbox link
    with pytest.raises(ConnectorError, match=r"admin_id"):
        run(open_source(fake, intercom_settings(workspace)).add_note(conversation, "Escalated", "fl-1"))
    configured = open_source(fake, intercom_settings(workspace, f'[intercom]\nadmin_id = "{fake.admin}"\n'))
    assert run(configured.add_note(conversation, "Escalated", "fl-1")).startswith("part:")
    assert len(fake.notes(conversation)) == 1
    clean(fake)


def test_a_note_whose_answer_was_lost_is_not_written_twice_and_a_refused_one_is_retried(
        fake: Acme, source: IntercomConversations) -> None:
    landed, refused = chat(fake, "Timeout"), chat(fake, "Unavailable")
    fake.lose_answer(on=r"POST /conversations/\d+/reply")
    reference = run(source.add_note(landed, "Escalated", "fl-lost"))
    assert len(fake.notes(landed)) == 1 and reference == run(source.find_note(landed, "fl-lost"))
    fake.fail(503, on=r"POST /conversations/\d+/reply")
    fake.rate_limit(on=r"POST /conversations/\d+/reply")
    run(source.add_note(refused, "Escalated", "fl-refused"))
    assert len(fake.notes(refused)) == 1
    clean(fake)


# -- the wire --------------------------------------------------------------------------------------
def test_every_request_names_the_pinned_intercom_version(fake: Acme, workspace: Path) -> None:
    conversation = chat(fake, "Versioned")
    for version in ("2.14", "2.16"):
        toml = "" if version == "2.14" else f'[intercom]\napi_version = "{version}"\n'
        fake.versions_seen.clear()
        source = open_source(fake, intercom_settings(workspace, toml))
        run(source.list_changed(None, 5))
        run(source.add_note(conversation, "note", f"fl-{version}"))
        run(source.diagnose())
        assert set(fake.versions_seen) == {version} and len(fake.versions_seen) >= 7
    clean(fake)


def test_an_eu_workspace_is_read_at_the_eu_base_url_and_links_to_the_eu_inbox(workspace: Path) -> None:
    fake = FakeIntercom(host="api.eu.intercom.io", region="EU")
    conversation = fake.add_conversation(fake.add_contact("Eva", "eva@example.eu"), [("customer", "Hallo")])
    eu = open_source(fake, intercom_settings(workspace, INTERCOM_BASE_URL="https://api.eu.intercom.io"))
    [listed] = run(eu.list_changed(None, 5)).items
    assert listed.url == f"https://app.eu.intercom.com/a/inbox/{APP_ID}/inbox/conversation/{conversation}"
    assert {r.url.host for r in fake.requests} == {"api.eu.intercom.io"}

    # The default (US) host does not know an EU workspace's token: the error names INTERCOM_BASE_URL.
    us = open_source(fake, intercom_settings(workspace))
    with pytest.raises(AuthError) as caught:
        run(us.list_changed(None, 5))
    assert caught.value.status == 401 and "https://api.eu.intercom.io" in str(caught.value)
    assert "INTERCOM_BASE_URL" in str(caught.value)
    clean(fake)


def test_a_rate_limited_search_waits_for_the_reset_then_succeeds(fake: Acme,
                                                                 source: IntercomConversations) -> None:
    conversation = chat(fake, "Slow down")
    fake.rate_limit(on=SEARCH, reset_in=1)
    assert [c.id for c in run(source.list_changed(None, 5)).items] == [conversation]
    assert len(fake.sent("POST", "/conversations/search")) == 2 and source.api.rate_limited == 1
    clean(fake)


def test_server_errors_are_retried(fake: Acme, source: IntercomConversations) -> None:
    conversation = chat(fake, "Flaky")
    fake.fail(502, times=2, on=SEARCH)
    fake.fail(500, on=r"GET /conversations/\d+")
    fake.timeout(on=r"GET /contacts/.*")
    [listed] = run(source.list_changed(None, 5)).items
    assert listed.id == conversation and listed.company is not None
    clean(fake)


def test_a_revoked_token_is_an_auth_error_saying_how_to_fix_it(fake: Acme,
                                                               source: IntercomConversations) -> None:
    chat(fake, "Anyone?")
    fake.revoke()
    with pytest.raises(AuthError) as caught:
        run(source.list_changed(None, 5))
    message = str(caught.value)
    assert caught.value.status == 401 and "Access Token Invalid" in message
    assert "INTERCOM_ACCESS_TOKEN" in message and "Developer Hub" in message


def test_a_missing_permission_is_named(fake: Acme, source: IntercomConversations) -> None:
    conversation = chat(fake, "Hello")
    fake.forbid("conversations")
    with pytest.raises(AuthError, match="Read conversations") as caught:
        run(source.get(conversation))
    assert caught.value.status == 403


def test_a_missing_conversation_is_not_found_with_a_hint(source: IntercomConversations) -> None:
    with pytest.raises(NotFoundError, match="Check the conversation id"):
        run(source.get("424242"))
    with pytest.raises(NotFoundError, match="not an Intercom conversation id"):
        run(source.get("abc"))


def test_a_base_url_that_is_no_intercom_api_says_so(fake: Acme, workspace: Path) -> None:
    source = open_source(fake, intercom_settings(workspace, INTERCOM_BASE_URL="https://proxy.example"))
    with pytest.raises(NotFoundError, match=re.escape("No Intercom API answers at https://proxy.example")):
        run(source.list_changed(None, 5))


def test_the_adapter_works_over_real_loopback_sockets(workspace: Path) -> None:
    fake = FakeIntercom(host=None)
    conversation = fake.add_conversation(fake.add_contact("Ann", ANN), [("customer", "Over sockets")])

    async def go(base: str) -> list[str]:
        async with httpx.AsyncClient() as http:
            source = open_source(fake, intercom_settings(workspace, INTERCOM_BASE_URL=base), http)
            page = await source.list_changed(None, 5)
            await source.add_note(conversation, "Escalated", "fl-socket")
            return [c.id for c in page.items]

    with serve(fake) as base:
        assert run(go(base)) == [conversation]
    assert len(fake.notes(conversation)) == 1
    clean(fake)


# -- doctor --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("setup", "lines"), [
    (lambda fake, env: None, [(True, "ACTIVE: signed in as Ada Admin <ada@acme.example> on workspace Acme "
                                     f"(app {APP_ID}, region US) at https://api.intercom.io", ""),
                              (True, "reads conversations", ""), (True, "reads companies (1 in the workspace)", "")]),
    (lambda fake, env: fake.revoke(), [(False, "rejected the token", "INTERCOM_ACCESS_TOKEN")]),
    (lambda fake, env: env.update(INTERCOM_ACCESS_TOKEN=""), [(False, "no token", "INTERCOM_ACCESS_TOKEN")]),
    (lambda fake, env: env.update(INTERCOM_BASE_URL="https://api.au.intercom.io"),
     [(False, "rejected the token", "https://api.au.intercom.io")]),
    (lambda fake, env: fake.forbid_companies(), [(True, "ACTIVE", ""), (True, "reads conversations", ""),
                                                 (False, "cannot read companies (403)",
                                                  "Read and list users and companies")]),
    (lambda fake, env: fake.forbid("conversations"), [(True, "ACTIVE", ""),
                                                      (False, "cannot read conversations", "Read conversations"),
                                                      (True, "reads companies", "")]),
], ids=["active", "revoked", "no-token", "wrong-region", "companies-forbidden", "conversations-forbidden"])
def test_diagnose_says_who_is_signed_in_where_or_what_to_fix(fake: Acme, workspace: Path, setup: Any,
                                                             lines: list[tuple[bool, str, str]]) -> None:
    env = dict(ENV)
    setup(fake, env)
    checks = run(open_source(fake, intercom_settings(workspace, **env)).diagnose())
    assert [(c.ok, detail in c.detail, fix in c.fix) for c, (_, detail, fix) in zip(checks, lines, strict=True)] \
        == [(ok, True, True) for ok, _, _ in lines]
    clean(fake)


# -- contract ------------------------------------------------------------------------------------
def test_every_request_the_adapter_sends_matches_the_intercom_spec(fake: Acme,
                                                                   source: IntercomConversations) -> None:
    conversation = chat(fake, "Contract")
    run(source.list_changed(None, 5))
    run(source.add_note(conversation, "Escalated", "fl-c"))
    run(source.find_note(conversation, "fl-c"))
    run(source.diagnose())
    kinds = {(r.method, re.sub(r"(?<=/)(\d+|[0-9a-f]{24})(?=/|$)", "N", r.url.path)) for r in fake.requests}
    assert kinds == {("GET", "/me"), ("POST", "/conversations/search"), ("GET", "/conversations/N"),
                     ("GET", "/contacts/N"), ("GET", "/companies/N"), ("POST", "/conversations/N/reply"),
                     ("GET", "/companies")}
    clean(fake)


@pytest.mark.parametrize(("path", "body", "wrong"), [
    ("/conversations/search", {"query": {"feild": "updated_at", "operator": ">", "value": 1}}, "query"),
    ("/conversations/search", {"query": {"operator": "AND", "value": [{"field": "updated_at", "operator": "after",
                                                                       "value": 1}]}}, "query"),
    ("/conversations/search", {"query": {"field": "updated_at", "operator": ">", "value": 1},
                               "sort": {"field": "updated_at", "order": "asc"}}, "sort/order"),
    ("/conversations/search", {"query": {"field": "id", "operator": "=", "value": "1"},
                               "pagination": {"perPage": 5}}, "pagination/perPage"),
    ("/conversations/{id}/reply", {"message_type": "note", "type": "admin", "admin": "1", "body": "x"}, "admin"),
    ("/conversations/{id}/reply", {"message_type": "private", "type": "admin", "admin_id": "1", "body": "x"},
     "(body)"),
], ids=["misspelt-filter-key", "unknown-operator", "wrong-sort-order", "camel-case-paging", "admin-not-admin_id",
        "not-a-message-type"])
def test_the_contract_refuses_a_wrong_field(fake: Acme, path: str, body: dict[str, Any], wrong: str) -> None:
    conversation = chat(fake, "Target")

    async def send() -> httpx.Response:
        async with fake.client() as http:
            return await http.post(f"https://api.intercom.io{path.format(id=conversation)}", json=body,
                                   headers={"Authorization": f"Bearer {TOKEN}", "Intercom-Version": "2.14"})

    response = run(send())
    assert response.status_code == 400
    assert len(fake.violations) == 1 and wrong in fake.violations[0]
    assert fake.notes(conversation) == []


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/me"), ("GET", "/conversations/{id}"), ("POST", "/conversations/search"), ("GET", "/contacts/{contact}"),
    ("GET", "/companies/{company}"), ("POST", "/conversations/{id}/reply"),
], ids=["me", "conversation", "search", "contact", "company", "note"])
def test_the_fake_answers_in_the_shapes_the_spec_documents(fake: Acme, method: str, path: str) -> None:
    conversation = fake.add_conversation(fake.ann, [
        ("customer", "Hi"), ("admin", "Hello"), ("note", "n"), ("close",)])
    url = path.format(id=conversation, contact=fake.ann, company=next(iter(fake.companies)))
    body = {"query": {"field": "id", "operator": "=", "value": conversation}} if "search" in path else \
        {"message_type": "note", "type": "admin", "admin_id": fake.admin, "body": "<p>n</p>"} if "reply" in path \
        else None

    async def send() -> httpx.Response:
        async with fake.client() as http:
            headers = {"Authorization": f"Bearer {TOKEN}", "Intercom-Version": "2.14"}
            return await http.request(method, f"https://api.intercom.io{url}", json=body, headers=headers)

    response = run(send())
    assert response.status_code == 200
    schema = _nullable_to_json_schema(_nullable_refs(intercom_contract().response_schema(method, url)))
    validator = jsonschema.Draft202012Validator(schema, registry=_response_registry())
    assert [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json())] == []
    clean(fake)


def _nullable_refs(node: Any) -> Any:
    """``{"$ref": …, "nullable": true}`` as "the referenced object, or null" (the spec's examples send null)."""
    if isinstance(node, dict):
        out = {key: _nullable_refs(value) for key, value in node.items()}
        if "$ref" in out and out.get("nullable") is True:
            return {"anyOf": [{"$ref": out["$ref"]}, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_nullable_refs(item) for item in node]
    return node


@functools.lru_cache(maxsize=1)
def _response_registry() -> Registry[Any]:
    converted = _nullable_to_json_schema(_nullable_refs(intercom_contract().spec))
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, Resource.from_contents(converted, default_specification=DRAFT202012))
    return registry
