"""Notion as the knowledge base, through the official SDK (``notion-client``), API version 2025-09-03.

**Version.** Every request carries ``Notion-Version: 2025-09-03`` (:data:`NOTION_VERSION`, pinned
here and the default of notion-client 3.x): the data-source edition, where a database holds one
or more data sources and pages live in data sources. The database id a user copies from Notion
is resolved once per process: ``GET /v1/databases/{id}`` lists its data sources, and
``GET /v1/data_sources/{id}`` gives each one's title property. A data source id pasted instead
("Copy data source ID") works too.

**Search.** Notion only matches titles, by substring: a ticket summary such as "Customer cannot
export invoices to CSV" is in no title as a whole. So the query is cut into significant terms
(stop words and generic support words dropped, light stemming: "invoices" → "invoic"), and:

- with a database, each data source is queried once with an ``or`` of ``title contains term``
  filters (one request, at most 50 candidates) — faster and more precise on large workspaces;
- without one, ``POST /v1/search`` (pages only) runs with all the terms, and when that finds fewer
  than ``k`` pages, once per each of the three most specific terms (at most four requests);

then candidates are ranked locally (:func:`frontline.connectors.notion.text.rank`: terms rare
among the candidates weigh more). Only the ``k`` best pages have their first blocks read
(``GET /v1/blocks/{id}/children``, concurrently) for the excerpt, which also nudges the score.
When nothing matches and the integration can see no page at all, :class:`NotSharedError` says to
share the pages or database with the integration.

**HTTP.** The SDK rewrites the base URL, headers (the token included) and timeout of the httpx
client it is handed. The shared client must not carry a Notion token to Zendesk or Slack, so the
SDK gets a private client whose transport forwards each request to the shared client (same
connection pool and proxies; the fake in tests); closing it leaves the shared client open.

**Retries and errors.** The SDK's own retries are off (they sleep for real and skip POST 5xx; all
calls here are reads). Each call goes through stamina: a 429 waits its ``Retry-After`` (bounded),
5xx and timeouts back off, attempts are bounded and instant in tests; a 401 asks the credentials
provider for a fresh token once. SDK errors become frontline's error tree with a fix-it hint.
Notion allows about three requests per second on average: at most three are in flight per
adapter, and the process's :class:`~frontline.connectors.http.Budget` (``[notion] requests_per_second``)
is consulted before each one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import stamina
from notion_client import AsyncClient
from notion_client.errors import (
    HTTPResponseError,
    InvalidPathParameterError,
    RequestTimeoutError,
    UnknownHTTPResponseError,
)

from frontline.connectors.http import (
    DEFAULT_ATTEMPTS,
    DEFAULT_RETRY_TIMEOUT,
    MAX_RETRY_AFTER,
    Budget,
    retry_after_seconds,
)
from frontline.connectors.notion.package import NOTION
from frontline.connectors.notion.text import blocks_text, excerpt, page_url, plain_text, query_terms, rank
from frontline.errors import (
    AuthError,
    ConnectorError,
    FrontlineError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
)
from frontline.model import Article
from frontline.ports import Check

if TYPE_CHECKING:
    from frontline.config import Settings
    from frontline.credentials import Credentials
    from frontline.runtime.budgets import BudgetBook

SERVICE = "Notion"
NOTION_VERSION = "2025-09-03"
TIMEOUT_MS = 30_000
CANDIDATES = 50  # pages asked of Notion per request, ranked locally
TERM_SEARCHES = 3  # extra per-term searches when the whole query finds too little
BLOCKS = 12  # first blocks read for an excerpt
IN_FLIGHT = 3  # Notion allows about three requests per second on average

SHARE_HINT = ("In Notion, open the page or database, ••• menu → Connections → Add connections, "
              "and pick this integration")
TOKEN_HINT = ("Set NOTION_TOKEN to the integration's secret (notion.so/profile/integrations → the integration "
              "→ Configuration; regenerate it if it was revoked), then run `frontline doctor`")
CAPABILITY_HINT = ("Give the integration the Read content capability "
                   "(notion.so/profile/integrations → the integration → Capabilities)")
_SDK_LOG = logging.getLogger("frontline.connectors.notion.sdk")

Send = Callable[[str], Awaitable[Any]]


class NotSharedError(NotFoundError):
    """Notion shows the integration nothing there: the page or database is not shared with it."""


def _retry_on(error: Exception) -> bool | float:
    """stamina hook: wait ``Retry-After`` on a 429 (unless absurdly long), back off on outages."""
    if isinstance(error, RateLimitedError):
        return error.retry_after if error.retry_after <= MAX_RETRY_AFTER else False
    return isinstance(error, UnavailableError)


def _failed(name: str, error: FrontlineError) -> Check:
    if isinstance(error, ConnectorError):
        status = f" ({error.status})" if error.status else ""
        return Check(name, False, f"{error.message}{status}", error.hint)
    return Check(name, False, str(error))


class _SharedTransport(httpx.AsyncBaseTransport):
    """Forwards the SDK's requests to the shared client, so the SDK never reconfigures that client."""

    def __init__(self, http: httpx.AsyncClient, budget: Budget | None) -> None:
        self._http = http
        self._budget = budget
        self._slots = asyncio.Semaphore(IN_FLIGHT)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the shared client; the raw body stream is handed back undecoded."""
        async with self._slots:
            if self._budget is not None:
                await self._budget.acquire(request)
            response = await self._http.send(request, stream=True)
        if response.status_code == 429 and self._budget is not None:
            self._budget.penalise(retry_after_seconds(response))
        return httpx.Response(response.status_code, headers=response.headers, stream=response.stream,
                              extensions=response.extensions)

    async def aclose(self) -> None:
        """The shared client belongs to the caller: nothing to close."""


@dataclass(frozen=True, slots=True)
class DataSource:
    """One table of a Notion database, and the text property searched in it."""

    id: str
    title: str
    property: str
    kind: str  # "title" or "rich_text"


class NotionKnowledgeBase:
    """Help articles in a Notion database (or anywhere in the workspace), searched by title."""

    name = "notion"

    def __init__(self, http: httpx.AsyncClient, credentials: Credentials, *, database_id: str = "",
                 base_url: str = "https://api.notion.com", title_property: str = "",
                 budget: Budget | None = None) -> None:
        self.database_id = database_id
        self.base_url = base_url.rstrip("/")
        self.title_property = title_property
        self.database_title = ""
        self._credentials = credentials
        private = httpx.AsyncClient(transport=_SharedTransport(http, budget))
        self._sdk = AsyncClient(client=private, base_url=self.base_url, notion_version=NOTION_VERSION,
                                timeout_ms=TIMEOUT_MS, retry=False, logger=_SDK_LOG, log_level=logging.ERROR)
        self._sources: list[DataSource] | None = None
        self._resolving = asyncio.Lock()
        self._sees_pages = False

    @classmethod
    def from_settings(cls, settings: Settings, *, http: httpx.AsyncClient, credentials: Credentials,
                      budget: Budget | None = None, budgets: BudgetBook | None = None,
                      **_: Any) -> NotionKnowledgeBase:
        """The adapter for ``[notion]`` (``NOTION_DB_ID``, ``NOTION_BASE_URL``); the token comes later.

        The budget is ``budget``, else the integration's from the process's ``budgets``.
        """
        notion = settings.notion
        if budget is None and budgets is not None:
            budget = NOTION.budget(budgets, notion)
        return cls(http, credentials, database_id=notion.database_id, base_url=notion.base_url,
                   title_property=notion.title_property, budget=budget)

    # -- the port ----------------------------------------------------------------------------------
    async def search(self, query: str, k: int = 3) -> list[Article]:
        """The ``k`` pages whose titles best match ``query``, best first, with an excerpt each."""
        terms = query_terms(query)
        if not terms or k <= 0:
            return []
        pages = await (self._query_database(terms) if self.database_id else self._search_workspace(terms, k))
        ranked = rank(pages, terms, self.title_property)
        if pages:
            self._sees_pages = True
        elif not self._sees_pages:
            await self._require_pages()
        top = ranked[:k]
        contents = await asyncio.gather(*(self._first_blocks(c.page_id) for c in top))
        articles = []
        for candidate, blocks in zip(top, contents, strict=True):
            body = blocks_text(blocks).lower()
            in_body = sum(1 for t in terms if t in body) / len(terms)
            score = round(0.8 * candidate.score + 0.2 * in_body, 3)
            articles.append(Article(candidate.title, page_url(candidate.page), excerpt(blocks, terms), score))
        articles.sort(key=lambda a: -a.score)
        return articles

    async def diagnose(self) -> list[Check]:
        """Who the token is (``GET /v1/users/me``), then the database, or whether any page is shared."""
        try:
            me = await self._call("GET /v1/users/me", lambda token: self._sdk.users.me(auth=token))
        except FrontlineError as error:
            return [_failed("kb notion", error)]
        bot = me.get("bot") or {}
        workspace = f" in workspace {bot['workspace_name']}" if bot.get("workspace_name") else ""
        checks = [Check("kb notion", True, f"ACTIVE: bot {me.get('name') or me.get('id')}{workspace}")]
        if self.database_id:
            try:
                sources = await self.data_sources()
            except FrontlineError as error:
                return [*checks, _failed("kb notion database", error)]
            names = ", ".join(f"{s.title or s.id} (searching {s.property})" for s in sources)
            shown = self.database_title or self.database_id
            checks.append(Check("kb notion database", True, f"ACTIVE: database {shown}: {names}"))
            return checks
        try:
            visible = await self._any_page()
        except FrontlineError as error:
            return [*checks, _failed("kb notion pages", error)]
        if visible:
            checks.append(Check("kb notion pages", True, "ACTIVE: workspace search sees shared pages"))
        else:
            checks.append(Check("kb notion pages", False, "the integration can see no pages",
                                f"{SHARE_HINT}; or set NOTION_DB_ID to the help-centre database"))
        return checks

    async def aclose(self) -> None:
        """Close the SDK's private client; the shared httpx client stays open for its owner."""
        await self._sdk.aclose()

    # -- database path -----------------------------------------------------------------------------
    async def data_sources(self) -> list[DataSource]:
        """The configured database's data sources, resolved once (``NotSharedError`` when unshared)."""
        async with self._resolving:
            if self._sources is None:
                self._sources = await self._resolve(self.database_id)
            return self._sources

    async def _resolve(self, given: str) -> list[DataSource]:
        try:
            database = await self._call(f"GET /v1/databases/{given}",
                                        lambda token: self._sdk.databases.retrieve(given, auth=token))
        except NotSharedError:
            try:  # a data source id pasted instead of the database id
                source = await self._call(f"GET /v1/data_sources/{given}",
                                          lambda token: self._sdk.data_sources.retrieve(given, auth=token))
            except NotSharedError:
                raise NotSharedError(
                    SERVICE, f"database {given} is not shared with the integration, or the id is wrong", status=404,
                    hint=f"{SHARE_HINT}; or set NOTION_DB_ID to the 32-character id in the database's URL",
                ) from None
            return [self._data_source(source)]
        self.database_title = plain_text(database.get("title"))
        ids = [str(s["id"]) for s in database.get("data_sources") or [] if s.get("id")]
        if not ids:
            raise ConnectorError(SERVICE, f"database {self.database_title or given} has no data source to query",
                                 hint="Point NOTION_DB_ID at the original database, not a linked view of it")
        sources = await asyncio.gather(*(self._call(f"GET /v1/data_sources/{i}", self._retrieve_source(i))
                                         for i in ids))
        return [self._data_source(s) for s in sources]

    def _retrieve_source(self, source_id: str) -> Send:
        return lambda token: self._sdk.data_sources.retrieve(source_id, auth=token)

    def _data_source(self, source: Mapping[str, Any]) -> DataSource:
        properties: Mapping[str, Any] = source.get("properties") or {}
        title = plain_text(source.get("title"))
        wanted = self.title_property
        if not wanted:
            name = next((n for n, p in properties.items() if p.get("type") == "title"), "title")
            return DataSource(str(source.get("id")), title, name, "title")
        for name, prop in properties.items():
            if wanted in (name, prop.get("id")) and prop.get("type") in ("title", "rich_text"):
                return DataSource(str(source.get("id")), title, name, str(prop["type"]))
        texts = ", ".join(n for n, p in properties.items() if p.get("type") in ("title", "rich_text"))
        raise ConnectorError(SERVICE, f"data source {title or source.get('id')} has no text property {wanted!r}",
                             hint=f"Set [notion] title_property to one of: {texts}")

    async def _query_database(self, terms: list[str]) -> list[Mapping[str, Any]]:
        sources = await self.data_sources()
        batches = await asyncio.gather(*(self._query(s, terms) for s in sources))
        return [page for batch in batches for page in batch]

    async def _query(self, source: DataSource, terms: list[str], *, size: int = CANDIDATES
                     ) -> list[Mapping[str, Any]]:
        conditions = [{"property": source.property, source.kind: {"contains": t}} for t in terms]
        body: dict[str, Any] = {"page_size": size, "result_type": "page"}
        if conditions:
            body["filter"] = conditions[0] if len(conditions) == 1 else {"or": conditions}
        found = await self._call(f"POST /v1/data_sources/{source.id}/query",
                                 lambda token: self._sdk.data_sources.query(source.id, auth=token, **body))
        return list(found.get("results") or [])

    # -- workspace path ----------------------------------------------------------------------------
    async def _search_workspace(self, terms: list[str], k: int) -> list[Mapping[str, Any]]:
        pages = await self._find(" ".join(terms))
        if len(terms) > 1 and len(rank(pages, terms)) < k:
            specific = sorted(terms, key=len, reverse=True)[:TERM_SEARCHES]
            for batch in await asyncio.gather(*(self._find(term) for term in specific)):
                pages += batch
        return pages

    async def _find(self, text: str, size: int = CANDIDATES) -> list[Mapping[str, Any]]:
        body: dict[str, Any] = {"filter": {"property": "object", "value": "page"}, "page_size": size}
        if text:
            body["query"] = text
        found = await self._call("POST /v1/search", lambda token: self._sdk.search(auth=token, **body))
        return list(found.get("results") or [])

    async def _any_page(self) -> bool:
        if self.database_id:
            sources = await self.data_sources()
            batches = await asyncio.gather(*(self._query(s, [], size=1) for s in sources))
            return any(batches)
        return bool(await self._find("", size=1))

    async def _require_pages(self) -> None:
        """Nothing matched: make sure that is not because nothing is shared with the integration."""
        if await self._any_page():
            self._sees_pages = True
            return
        if self.database_id:
            raise ConnectorError(SERVICE, f"database {self.database_title or self.database_id} has no pages",
                                 hint="Add help articles to it, or set NOTION_DB_ID to the help-centre database")
        raise NotSharedError(SERVICE, "the integration can see no pages in the workspace",
                             hint=f"{SHARE_HINT}; or set NOTION_DB_ID to the help-centre database")

    async def _first_blocks(self, page_id: str) -> Sequence[Mapping[str, Any]]:
        try:
            found = await self._call(f"GET /v1/blocks/{page_id}/children",
                                     lambda token: self._sdk.blocks.children.list(page_id, auth=token,
                                                                                  page_size=BLOCKS))
        except ConnectorError:
            return []  # an article without an excerpt still helps
        return list(found.get("results") or [])

    # -- calls -------------------------------------------------------------------------------------
    async def _call(self, where: str, send: Send) -> Any:
        """One SDK call with bounded retries and the error tree; a 401 refreshes the token once."""
        refreshed = False
        async for attempt in stamina.retry_context(on=_retry_on, attempts=DEFAULT_ATTEMPTS,
                                                   timeout=DEFAULT_RETRY_TIMEOUT):
            with attempt:
                try:
                    return await self._once(where, send, refresh=False)
                except AuthError as error:
                    if refreshed or error.status != 401:
                        raise
                    refreshed = True  # an expired OAuth token (Scalekit): ask for a fresh one
                    return await self._once(where, send, refresh=True)
        raise AssertionError("unreachable")  # pragma: no cover - stamina re-raises the last error

    async def _once(self, where: str, send: Send, *, refresh: bool) -> dict[str, Any]:
        credential = await self._credentials.get("notion", refresh=refresh)
        try:
            answer = await send(credential.secret)
        except (HTTPResponseError, RequestTimeoutError, InvalidPathParameterError, httpx.HTTPError,
                ValueError) as error:
            raise self._error(error, where) from None
        if not isinstance(answer, dict):
            raise UnavailableError(SERVICE, f"answered {where} with something that is not a JSON object",
                                   hint="Check NOTION_BASE_URL: a proxy may be in the way")
        return answer

    def _error(self, error: Exception, where: str) -> ConnectorError:
        if isinstance(error, RequestTimeoutError | httpx.TimeoutException):
            return UnavailableError(SERVICE, f"{where} timed out",
                                    hint="Notion is slow or unreachable; the run retries it later")
        if isinstance(error, httpx.HTTPError):
            return UnavailableError(SERVICE, f"cannot reach {self.base_url} ({type(error).__name__})",
                                    hint="Check NOTION_BASE_URL and the network")
        if isinstance(error, InvalidPathParameterError):
            return ConnectorError(SERVICE, f"{where} is not a valid id", hint="Check NOTION_DB_ID")
        if not isinstance(error, HTTPResponseError):  # a 2xx body that is not JSON
            return UnavailableError(SERVICE, f"answered {where} with something that is not JSON",
                                    hint="Check NOTION_BASE_URL: a proxy or login page may be in the way")
        status = error.status
        # Notion's own words; an unknown body (a proxy's HTML page) adds nothing.
        message = "" if isinstance(error, UnknownHTTPResponseError) else str(error).strip().rstrip(".")
        said = f": {message}" if message else ""
        if status == 429:
            wait = retry_after_seconds(httpx.Response(429, headers=error.headers))
            return RateLimitedError(SERVICE, wait, f"rate limited on {where}{said}")
        if status == 401:
            return AuthError(SERVICE, f"the token was rejected on {where}{said}", status=401, hint=TOKEN_HINT)
        if status == 403:
            return AuthError(SERVICE, f"the integration may not use {where}{said}", status=403,
                             hint=CAPABILITY_HINT)
        if status == 404:
            return NotSharedError(SERVICE, f"{where} found nothing shared with the integration{said}", status=404,
                                  hint=SHARE_HINT)
        if status >= 500 or status == 408:
            return UnavailableError(SERVICE, f"server error on {where}{said}", status=status,
                                    hint="Notion is having trouble; the run retries it later")
        return ConnectorError(SERVICE, f"refused {where}{said}", status=status,
                              hint="Check NOTION_DB_ID and [notion] title_property")
