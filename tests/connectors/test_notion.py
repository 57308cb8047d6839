"""The Notion knowledge base against a stateful fake Notion at the HTTP transport."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import stamina

from frontline.config import Settings, load_settings
from frontline.connectors.environment import EnvCredentials
from frontline.connectors.notion.kb import NOTION_VERSION, NotionKnowledgeBase, NotSharedError
from frontline.connectors.notion.text import query_terms
from frontline.credentials import Credential
from frontline.errors import AuthError, ConnectorError, RateLimitedError, UnavailableError
from frontline.model import Article
from frontline.ports import Check, Diagnosable, KnowledgeBase
from tests.contract import ContractViolation
from tests.fakes.base import serve
from tests.fakes.notion import GOOD_TOKEN, FakeDatabase, FakeNotion, FakePage, notion_contract
from tests.helpers import make_settings, run

T = TypeVar("T")
EXPORT_QUERY = "Customer cannot export invoices to CSV, the export crashes"


def notion_settings(workspace: Path, toml: str = "", **env: str) -> Settings:
    """Settings whose environment holds a Notion token (and any NOTION_* given)."""
    make_settings(workspace, '[connectors]\nkb = "notion"\n' + toml)
    return load_settings(workspace / "frontline.toml", dotenv=None, environ={"NOTION_TOKEN": GOOD_TOKEN, **env})


class Help:
    """The help centre in the fake: a database of articles plus standalone pages."""

    def __init__(self, fake: FakeNotion) -> None:
        self.fake = fake
        self.db: FakeDatabase = fake.add_database("Help Centre")
        self.reset = fake.add_page(
            "Reset your password", "If you forgot your password or are locked out, open the login page and choose "
            "Forgot password.", "The reset link expires after one hour.", database=self.db)
        self.invoices = fake.add_page(
            "Export invoices to CSV", "Open Billing, then Invoices, and choose Export.",
            "If the export crashes, pick a shorter date range and export again.", database=self.db)
        self.data = fake.add_page("Export your data", "Export projects to CSV from Settings, then Export.",
                                  database=self.db)
        self.customer = fake.add_page("Customer FAQ", "Answers to the questions customers ask most.",
                                      database=self.db)
        self.two_factor = fake.add_page("Two-factor authentication", "Turn on 2FA from your profile.",
                                        database=self.db)
        self.login = fake.add_page("Troubleshooting login problems", "Clear cookies, then sign in again.",
                                   "If you are locked out, reset your password.")
        self.secret = fake.add_page("Locked out: internal escalation runbook", "Not for customers.", shared=False)


@pytest.fixture
def fake() -> Iterator[FakeNotion]:
    """A fake Notion; every test ends with no contract violation and no unknown route."""
    notion = FakeNotion()
    yield notion
    assert notion.violations == []
    assert notion.unknown == []


@pytest.fixture
def help_centre(fake: FakeNotion) -> Help:
    """The fake holding the help centre."""
    return Help(fake)


def with_kb(fake: FakeNotion, settings: Settings, use: Callable[[NotionKnowledgeBase], Awaitable[T]],
            credentials: Any = None) -> T:
    """Open the adapter the way the app does, use it, close it."""
    async def go() -> T:
        async with fake.client() as http:
            kb = NotionKnowledgeBase.from_settings(settings, http=http,
                                                   credentials=credentials or EnvCredentials(settings))
            try:
                return await use(kb)
            finally:
                await kb.aclose()
    return run(go())


def search(fake: FakeNotion, settings: Settings, query: str, k: int = 3) -> list[Article]:
    return with_kb(fake, settings, lambda kb: kb.search(query, k))


def diagnose(fake: FakeNotion, settings: Settings) -> list[Check]:
    return with_kb(fake, settings, lambda kb: kb.diagnose())


# -- searching ------------------------------------------------------------------------------------------
def test_the_database_path_returns_title_url_excerpt_best_first(fake: FakeNotion, help_centre: Help,
                                                                workspace: Path) -> None:
    settings = notion_settings(workspace, NOTION_DB_ID=help_centre.db.id)
    articles = search(fake, settings, EXPORT_QUERY)
    assert [a.title for a in articles] == ["Export invoices to CSV", "Export your data", "Customer FAQ"][:len(articles)]
    best = articles[0]
    assert best.url == help_centre.invoices.url
    assert best.snippet == "Open Billing, then Invoices, and choose Export."  # the sentence most like the query
    assert [a.score for a in articles] == sorted((a.score for a in articles), reverse=True)
    assert 0 < best.score <= 1
    assert fake.sent("POST", r"/v1/search") == []  # the database is queried, not the workspace
    assert len(fake.sent("POST", r"/v1/data_sources/[^/]+/query")) == 1


def test_the_workspace_path_returns_only_shared_pages_best_first(fake: FakeNotion, help_centre: Help,
                                                                 workspace: Path) -> None:
    settings = notion_settings(workspace)
    articles = search(fake, settings, "Locked out of the login page after a password reset")
    titles = [a.title for a in articles]
    assert titles[0] == "Reset your password"
    assert "Troubleshooting login problems" in titles
    assert help_centre.secret.title not in titles  # never shared with the integration
    assert articles[0].url == help_centre.reset.url and "Forgot password" in articles[0].snippet
    assert [a.score for a in articles] == sorted((a.score for a in articles), reverse=True)
    assert fake.sent("POST", r"/v1/data_sources/[^/]+/query") == []
    assert len(fake.sent("POST", r"/v1/search")) <= 4  # the whole query, then at most three terms


@pytest.mark.parametrize("path", ["database", "workspace"])
def test_a_multi_word_summary_finds_the_right_article(fake: FakeNotion, help_centre: Help, workspace: Path,
                                                      path: str) -> None:
    env = {"NOTION_DB_ID": help_centre.db.id} if path == "database" else {}
    settings = notion_settings(workspace, **env)
    # No title contains this sentence, nor even "invoices" as a whole word next to "exporting".
    articles = search(fake, settings, "The customer says exporting invoices keeps crashing on large ranges", k=1)
    assert [a.title for a in articles] == ["Export invoices to CSV"]


def test_only_the_k_results_returned_have_their_blocks_read(fake: FakeNotion, workspace: Path) -> None:
    db = fake.add_database("Help Centre")
    for n in range(12):
        fake.add_page(f"Export guide {n}", f"Export step {n}.", database=db)
    settings = notion_settings(workspace, NOTION_DB_ID=db.id)
    articles = search(fake, settings, "export", k=2)
    assert len(articles) == 2
    assert len(fake.block_reads()) == 2
    assert all(r.url.params["page_size"] == "12" for r in fake.sent("GET", r"/v1/blocks/[^/]+/children"))


def test_the_excerpt_skips_images_and_dividers(fake: FakeNotion, workspace: Path) -> None:
    db = fake.add_database("Help Centre")
    fake.add_page("Connect SSO", database=db, blocks=[
        ("image", "https://cdn.example/sso.png"), ("heading_2", "Before you start"), ("divider", ""),
        ("numbered_list_item", "Open Security, then SSO, and paste the SAML metadata URL"),
    ])
    settings = notion_settings(workspace, NOTION_DB_ID=db.id)
    [article] = search(fake, settings, "SSO SAML setup fails", k=3)
    assert "paste the SAML metadata URL" in article.snippet and "cdn.example" not in article.snippet


def test_a_published_page_links_to_its_public_url(fake: FakeNotion, workspace: Path) -> None:
    db = fake.add_database("Help Centre")
    fake.add_page("Refund policy", "Refunds within 30 days.", database=db, public_url="https://help.acme.site/refunds")
    settings = notion_settings(workspace, NOTION_DB_ID=db.id)
    assert [a.url for a in search(fake, settings, "refund request")] == ["https://help.acme.site/refunds"]


def test_a_pasted_database_url_with_a_view_id_works(fake: FakeNotion, help_centre: Help, workspace: Path) -> None:
    url = f"https://www.notion.so/acme/{help_centre.db.id.replace('-', '')}?v=9f1b2c3d4e5f60718293a4b5c6d7e8f9"
    settings = notion_settings(workspace, NOTION_DB_ID=url)
    assert search(fake, settings, "reset password", k=1)[0].title == "Reset your password"


def test_a_data_source_id_given_as_the_database_works(fake: FakeNotion, help_centre: Help, workspace: Path) -> None:
    settings = notion_settings(workspace, NOTION_DB_ID=help_centre.db.sources[0].id)
    assert search(fake, settings, "reset password", k=1)[0].title == "Reset your password"


def test_every_data_source_of_a_database_is_searched(fake: FakeNotion, workspace: Path) -> None:
    db = fake.add_database("Help Centre", sources=2)
    fake.add_page("Invite teammates", "Settings, then Members.", database=db, source=0)
    fake.add_page("Invite guests to a project", "Share, then Invite.", database=db, source=1)
    settings = notion_settings(workspace, NOTION_DB_ID=db.id)
    assert {a.title for a in search(fake, settings, "how to invite people")} == {
        "Invite teammates", "Invite guests to a project"}


def test_a_configured_rich_text_property_is_the_one_searched(fake: FakeNotion, workspace: Path) -> None:
    db = fake.add_database("Help Centre")
    fake.add_page("KB-104", "Turn on 2FA from your profile.", database=db, summary="Two-factor authentication setup")
    settings = notion_settings(workspace, '[notion]\ntitle_property = "Summary"\n', NOTION_DB_ID=db.id)
    [article] = search(fake, settings, "authentication codes not arriving")
    assert article.title == "Two-factor authentication setup"


def test_an_unknown_title_property_names_the_ones_that_exist(fake: FakeNotion, help_centre: Help,
                                                             workspace: Path) -> None:
    settings = notion_settings(workspace, '[notion]\ntitle_property = "Headline"\n', NOTION_DB_ID=help_centre.db.id)
    with pytest.raises(ConnectorError, match="no text property 'Headline'") as caught:
        search(fake, settings, "reset password")
    assert "Name, Summary" in caught.value.hint


def test_a_query_without_significant_words_asks_nothing(fake: FakeNotion, help_centre: Help,
                                                        workspace: Path) -> None:
    assert search(fake, notion_settings(workspace), "Hi, can you help us please?") == []
    assert fake.requests == []


def test_query_terms_drop_filler_and_strip_suffixes() -> None:
    assert query_terms("The customer says exporting invoices keeps crashing") == ["export", "invoic", "keep", "crash"]


# -- sharing ---------------------------------------------------------------------------------------------
def test_nothing_shared_says_to_share_the_pages_with_the_integration(fake: FakeNotion, workspace: Path) -> None:
    fake.add_page("Reset your password", "Open the login page.", shared=False)
    with pytest.raises(NotSharedError) as caught:
        search(fake, notion_settings(workspace), "reset password")
    assert "can see no pages" in str(caught.value) and "Add connections" in str(caught.value)


def test_an_unshared_database_says_to_share_it_or_fix_the_id(fake: FakeNotion, workspace: Path) -> None:
    db = fake.add_database("Help Centre", shared=False)
    fake.add_page("Reset your password", "Open the login page.", database=db)
    with pytest.raises(NotSharedError) as caught:
        search(fake, notion_settings(workspace, NOTION_DB_ID=db.id), "reset password")
    message = str(caught.value)
    assert f"database {db.id} is not shared with the integration" in message
    assert "Add connections" in message and "NOTION_DB_ID" in message and caught.value.status == 404


def test_no_match_among_shared_pages_is_an_empty_answer_checked_once(fake: FakeNotion, help_centre: Help,
                                                                     workspace: Path) -> None:
    settings = notion_settings(workspace)

    async def twice(kb: NotionKnowledgeBase) -> list[list[Article]]:
        return [await kb.search("quantum entanglement", 3), await kb.search("photosynthesis", 3)]

    assert with_kb(fake, settings, twice) == [[], []]
    probes = [r for r in fake.sent("POST", r"/v1/search") if b'"query"' not in r.content]
    assert len(probes) == 1  # "can it see any page at all?" is asked once, not per search


def test_an_empty_database_says_so(fake: FakeNotion, workspace: Path) -> None:
    db = fake.add_database("Help Centre")
    with pytest.raises(ConnectorError, match="database Help Centre has no pages"):
        search(fake, notion_settings(workspace, NOTION_DB_ID=db.id), "reset password")


# -- failures --------------------------------------------------------------------------------------------
def test_a_429_is_retried_and_the_search_succeeds(fake: FakeNotion, help_centre: Help, workspace: Path) -> None:
    fake.fail(429, headers={"Retry-After": "1"}, on="POST /v1/data_sources/.*/query")
    articles = search(fake, notion_settings(workspace, NOTION_DB_ID=help_centre.db.id), EXPORT_QUERY)
    assert articles[0].title == "Export invoices to CSV"
    assert len(fake.sent("POST", r"/v1/data_sources/[^/]+/query")) == 2


def test_a_429_waits_its_retry_after(fake: FakeNotion, help_centre: Help, workspace: Path) -> None:
    fake.fail(429, headers={"Retry-After": "0.3"}, on="POST /v1/search")
    settings = notion_settings(workspace)
    with stamina.set_testing(False):  # real waits for this one test
        started = time.perf_counter()
        assert search(fake, settings, "reset password", k=1)[0].title == "Reset your password"
        assert time.perf_counter() - started >= 0.3


def test_a_very_long_retry_after_is_reported_not_waited_out(fake: FakeNotion, help_centre: Help,
                                                            workspace: Path) -> None:
    fake.fail(429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitedError) as caught:
        search(fake, notion_settings(workspace), "reset password")
    assert caught.value.retry_after == 3600 and "rate limited on POST /v1/search" in str(caught.value)
    assert len(fake.requests) == 1


def test_server_errors_and_timeouts_are_retried(fake: FakeNotion, help_centre: Help, workspace: Path) -> None:
    fake.fail(503, on="POST /v1/search")
    fake.fail(502, on="POST /v1/search")
    fake.timeout(on="POST /v1/search")
    fake.garbage(on="GET /v1/blocks/.*")
    articles = search(fake, notion_settings(workspace), "reset password", k=1)
    assert articles[0].title == "Reset your password"
    assert "Forgot password" in articles[0].snippet
    assert len(fake.sent("POST", r"/v1/search")) == 4


def test_retries_are_bounded_and_end_in_a_clear_error(fake: FakeNotion, help_centre: Help, workspace: Path) -> None:
    fake.fail(500, times=50)
    with pytest.raises(UnavailableError, match=r"Notion: server error on POST /v1/search: fake error 500 \(500\)"):
        search(fake, notion_settings(workspace), "reset password")
    assert len(fake.requests) == 5


def test_an_invalid_token_is_a_clear_auth_error(fake: FakeNotion, help_centre: Help, workspace: Path) -> None:
    settings = notion_settings(workspace, NOTION_TOKEN="ntn_revoked")
    with pytest.raises(AuthError) as caught:
        search(fake, settings, "reset password")
    message = str(caught.value)
    assert message.startswith("Notion: the token was rejected on POST /v1/search: API token is invalid (401).")
    assert "Set NOTION_TOKEN" in message and caught.value.status == 401
    assert len(fake.requests) == 2  # asked the provider for a fresh token once


def test_an_expired_token_is_refreshed_once(fake: FakeNotion, help_centre: Help, workspace: Path) -> None:
    class Rotating:
        name = "scalekit"

        def __init__(self) -> None:
            self.asked: list[bool] = []

        async def get(self, connector: str, *, refresh: bool = False) -> Credential:
            self.asked.append(refresh)
            return Credential(GOOD_TOKEN if refresh else "ntn_expired", source="scalekit")

    provider = Rotating()
    articles = with_kb(fake, notion_settings(workspace), lambda kb: kb.search("reset password", 1), provider)
    assert articles[0].title == "Reset your password" and provider.asked[:2] == [False, True]


def test_a_missing_read_capability_is_a_403_with_the_fix(fake: FakeNotion, help_centre: Help,
                                                         workspace: Path) -> None:
    fake.can_read_content = False
    with pytest.raises(AuthError, match="Read content capability") as caught:
        search(fake, notion_settings(workspace), "reset password")
    assert caught.value.status == 403


def test_a_missing_token_names_the_variable(fake: FakeNotion, workspace: Path) -> None:
    make_settings(workspace, '[connectors]\nkb = "notion"\n')
    settings = load_settings(workspace / "frontline.toml", dotenv=None, environ={})
    with pytest.raises(AuthError, match="Set NOTION_TOKEN"):
        search(fake, settings, "reset password")
    assert fake.requests == []


# -- diagnose --------------------------------------------------------------------------------------------
def test_diagnose_names_the_bot_workspace_and_database(fake: FakeNotion, help_centre: Help,
                                                       workspace: Path) -> None:
    checks = diagnose(fake, notion_settings(workspace, NOTION_DB_ID=help_centre.db.id))
    assert [(c.connector, c.ok) for c in checks] == [("kb notion", True), ("kb notion database", True)]
    assert checks[0].detail == "ACTIVE: bot frontline in workspace Acme Help"
    assert checks[1].detail == "ACTIVE: database Help Centre: Help Centre (searching Name)"


def test_diagnose_an_unshared_database_says_to_share_it(fake: FakeNotion, workspace: Path) -> None:
    db = fake.add_database("Help Centre", shared=False)
    checks = diagnose(fake, notion_settings(workspace, NOTION_DB_ID=db.id))
    assert [c.ok for c in checks] == [True, False]
    assert "is not shared with the integration" in checks[1].detail and "Add connections" in checks[1].fix


def test_diagnose_a_bad_token_is_one_failed_line(fake: FakeNotion, help_centre: Help, workspace: Path) -> None:
    checks = diagnose(fake, notion_settings(workspace, NOTION_TOKEN="ntn_revoked"))
    assert len(checks) == 1 and not checks[0].ok
    assert "token was rejected" in checks[0].detail and "Set NOTION_TOKEN" in checks[0].fix


def test_diagnose_without_a_database_says_whether_any_page_is_shared(fake: FakeNotion, workspace: Path) -> None:
    page = fake.add_page("Reset your password", "Open the login page.", shared=False)
    settings = notion_settings(workspace)
    checks = diagnose(fake, settings)
    assert [c.ok for c in checks] == [True, False] and "can see no pages" in checks[1].detail
    page.shared = True
    assert diagnose(fake, settings)[1].detail == "ACTIVE: workspace search sees shared pages"


def test_diagnose_never_raises_when_notion_is_down(fake: FakeNotion, workspace: Path) -> None:
    fake.fail(503, times=50)
    [check] = diagnose(fake, notion_settings(workspace))
    assert not check.ok and "server error on GET /v1/users/me" in check.detail


# -- the wire --------------------------------------------------------------------------------------------
def test_every_request_carries_the_pinned_version_and_the_token(fake: FakeNotion, help_centre: Help,
                                                                workspace: Path) -> None:
    search(fake, notion_settings(workspace, NOTION_DB_ID=help_centre.db.id), EXPORT_QUERY)
    diagnose(fake, notion_settings(workspace))
    assert NOTION_VERSION == "2025-09-03"
    assert {r.headers["notion-version"] for r in fake.requests} == {NOTION_VERSION}
    assert {r.headers["authorization"] for r in fake.requests} == {f"Bearer {GOOD_TOKEN}"}


def test_the_shared_client_is_neither_reconfigured_nor_closed(fake: FakeNotion, help_centre: Help,
                                                              workspace: Path) -> None:
    settings = notion_settings(workspace)

    async def go() -> tuple[httpx.Headers, bool]:
        async with fake.client(headers={"User-Agent": "frontline/test"}) as http:
            kb = NotionKnowledgeBase.from_settings(settings, http=http, credentials=EnvCredentials(settings))
            await kb.search("reset password", 1)
            await kb.aclose()
            return http.headers, http.is_closed

    headers, closed = run(go())
    assert "authorization" not in headers  # the Notion token never rides along to Zendesk or Slack
    assert headers["user-agent"] == "frontline/test" and not closed


def test_it_works_over_real_sockets_at_the_base_url_override(fake: FakeNotion, help_centre: Help,
                                                             workspace: Path) -> None:
    async def go(settings: Settings) -> list[Article]:
        async with httpx.AsyncClient() as http:
            kb = NotionKnowledgeBase.from_settings(settings, http=http, credentials=EnvCredentials(settings))
            try:
                return await kb.search(EXPORT_QUERY, 2)
            finally:
                await kb.aclose()

    fake.fail(503, on="POST /v1/data_sources/.*/query")
    with serve(fake) as base:
        articles = run(go(notion_settings(workspace, NOTION_BASE_URL=base, NOTION_DB_ID=help_centre.db.id)))
    assert articles[0].title == "Export invoices to CSV" and "choose Export" in articles[0].snippet


def test_a_shared_rate_budget_is_consulted_and_told_about_429s(fake: FakeNotion, help_centre: Help,
                                                               workspace: Path) -> None:
    class Recording:
        def __init__(self) -> None:
            self.acquired: list[str] = []
            self.penalties: list[float] = []

        async def acquire(self, request: httpx.Request) -> None:
            self.acquired.append(f"{request.method} {request.url.path}")

        def penalise(self, retry_after: float) -> None:
            self.penalties.append(retry_after)

    budget = Recording()
    settings = notion_settings(workspace)
    fake.fail(429, headers={"Retry-After": "2"}, on="POST /v1/search")

    async def go() -> list[Article]:
        async with fake.client() as http:
            kb = NotionKnowledgeBase.from_settings(settings, http=http, credentials=EnvCredentials(settings),
                                                   budget=budget)
            try:
                return await kb.search("reset password", 1)
            finally:
                await kb.aclose()

    assert run(go())[0].title == "Reset your password"
    assert len(budget.acquired) == len(fake.requests) and budget.penalties == [2.0]


def test_the_adapter_is_a_knowledge_base_that_can_diagnose_itself(fake: FakeNotion, workspace: Path) -> None:
    settings = notion_settings(workspace)

    async def kinds(kb: NotionKnowledgeBase) -> tuple[bool, bool]:
        return isinstance(kb, KnowledgeBase), isinstance(kb, Diagnosable)

    assert with_kb(fake, settings, kinds) == (True, True)


def test_the_contract_catches_a_wrong_field(fake: FakeNotion) -> None:
    contract = notion_contract()
    contract.validate("POST", "/v1/search", {"query": "x", "filter": {"property": "object", "value": "page"}})
    with pytest.raises(ContractViolation, match="filter/value"):  # the pre-2025-09-03 value
        contract.validate("POST", "/v1/search", {"filter": {"property": "object", "value": "database"}})
    with pytest.raises(ContractViolation, match="sorts: not a property"):  # `sort` on search, `sorts` on queries
        contract.validate("POST", "/v1/search", {"query": "x", "sorts": []})
    with pytest.raises(ContractViolation, match="no operation POST /v1/databases/abc/query"):
        contract.validate("POST", "/v1/databases/abc/query", {})

    async def misspelt() -> int:
        async with fake.client() as http:
            response = await http.post("https://api.notion.com/v1/search", json={"query": "x", "page_limit": 5},
                                       headers={"Notion-Version": NOTION_VERSION,
                                                "Authorization": f"Bearer {GOOD_TOKEN}"})
            return response.status_code

    assert run(misspelt()) == 400
    assert len(fake.violations) == 1 and "page_limit" in fake.violations[0]
    fake.violations.clear()  # seen; the fixture checks nothing else slipped through


def test_fake_pages_are_shaped_like_notion_pages(fake: FakeNotion, help_centre: Help) -> None:
    page: dict[str, Any] = fake.page_json(help_centre.reset)
    assert page["object"] == "page" and page["parent"]["type"] == "data_source_id"
    assert page["properties"]["Name"]["title"][0]["plain_text"] == "Reset your password"
    standalone: FakePage = help_centre.login
    assert fake.page_json(standalone)["parent"] == {"type": "workspace", "workspace": True}
