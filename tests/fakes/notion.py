"""A stateful in-memory Notion (API version 2025-09-03), plugged in at the HTTP transport.

It holds pages (title, URL, blocks), databases with their data sources, and which of them are
shared with the integration: a page in a database is visible when the database is shared, a
standalone page when it is shared itself, exactly as Notion's "Add connections" works. Payloads
follow the objects Notion documents (page, database, data source, block, bot user, list, error
``{object: "error", status, code, message}``); every request body is validated against the shared
2025-09-03 OpenAPI snapshot. Search matches titles containing every word of the query; data
source queries evaluate ``or``/``and`` and ``title``/``rich_text`` text filters, and refuse
unknown properties and malformed filters with a 400 ``validation_error`` as Notion does.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.contract import OpenAPIContract
from tests.fakes.base import FakeAPI, body_of, json_response

NOTION_VERSION = "2025-09-03"
GOOD_TOKEN = "ntn_good_secret"
EPOCH = "2025-01-01T00:00:00.000Z"
TEXT_OPERATORS = ("contains", "does_not_contain", "equals", "does_not_equal", "starts_with", "ends_with",
                  "is_empty", "is_not_empty")
ERROR_CODES = {400: "validation_error", 401: "unauthorized", 403: "restricted_resource", 404: "object_not_found",
               409: "conflict_error", 429: "rate_limited", 500: "internal_server_error", 502: "bad_gateway",
               503: "service_unavailable", 504: "gateway_timeout"}


def notion_contract() -> OpenAPIContract:
    """The 2025-09-03 snapshot, with the fields Notion documents that it lacks."""
    return OpenAPIContract("notion/notion-openapi.json", documented_extras={
        "result_type": "Query a data source documents result_type ('page' | 'data_source'; pages only for "
                       "wikis) in notion-sdk-js QueryDataSourceBodyParameters; the snapshot predates it",
    })


def rich(text: str) -> list[dict[str, Any]]:
    """A Notion rich-text array holding ``text``."""
    if not text:
        return []
    return [{"type": "text", "text": {"content": text, "link": None}, "plain_text": text, "href": None,
             "annotations": {"bold": False, "italic": False, "strikethrough": False, "underline": False,
                             "code": False, "color": "default"}}]


def _key(notion_id: str) -> str:
    """Notion accepts ids with or without dashes."""
    return notion_id.replace("-", "").lower()


@dataclass
class FakeDataSource:
    """A table of a database: its schema has a title property and a rich-text summary."""

    id: str
    name: str
    database_id: str
    title_property: str = "Name"

    def properties(self) -> dict[str, dict[str, Any]]:
        """The schema as Notion returns it."""
        return {
            self.title_property: {"id": "title", "name": self.title_property, "type": "title", "title": {},
                                  "description": None},
            "Summary": {"id": "Sm%3Dq", "name": "Summary", "type": "rich_text", "rich_text": {}, "description": None},
        }


@dataclass
class FakeDatabase:
    """A database: a title, its data sources, and whether it is shared with the integration."""

    id: str
    title: str
    sources: list[FakeDataSource] = field(default_factory=list)
    shared: bool = True


@dataclass
class FakePage:
    """A page: title, blocks (type, text), where it lives, and whether the integration sees it."""

    id: str
    title: str
    blocks: list[tuple[str, str]]
    edited: str
    source: FakeDataSource | None = None
    shared: bool = True
    summary: str = ""
    public_url: str | None = None
    in_trash: bool = False

    @property
    def url(self) -> str:
        """The workspace URL Notion gives the page."""
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.title).strip("-")
        return f"https://www.notion.so/{slug}-{_key(self.id)}"


class FakeNotion(FakeAPI):
    """In-memory Notion with pages, databases, data sources and sharing."""

    service = "Notion"

    def __init__(self) -> None:
        super().__init__(notion_contract())
        self.tokens = {GOOD_TOKEN}
        self.can_read_content = True
        self.bot_name = "frontline"
        self.workspace_name = "Acme Help"
        self.pages: dict[str, FakePage] = {}
        self.databases: dict[str, FakeDatabase] = {}
        self._ids = itertools.count(1)
        self._clock = itertools.count(1)
        self.route("GET", r"/v1/users/me", self._guard(self._me, content=False))
        self.route("POST", r"/v1/search", self._guard(self._search))
        self.route("GET", r"/v1/databases/([^/]+)", self._guard(self._database))
        self.route("GET", r"/v1/data_sources/([^/]+)", self._guard(self._data_source))
        self.route("POST", r"/v1/data_sources/([^/]+)/query", self._guard(self._query))
        self.route("GET", r"/v1/blocks/([^/]+)/children", self._guard(self._children))

    # -- building the workspace ----------------------------------------------------------------------
    def new_id(self) -> str:
        """A fresh UUID (deterministic, so failures are readable)."""
        n = next(self._ids)
        return f"{n:08x}-0000-4000-8000-{n:012x}"

    def add_database(self, title: str, *, shared: bool = True, title_property: str = "Name",
                     sources: int = 1) -> FakeDatabase:
        """A database with ``sources`` data sources."""
        database = FakeDatabase(self.new_id(), title, shared=shared)
        for n in range(sources):
            name = title if n == 0 else f"{title} ({n + 1})"
            database.sources.append(FakeDataSource(self.new_id(), name, database.id, title_property))
        self.databases[_key(database.id)] = database
        return database

    def add_page(self, title: str, *paragraphs: str, database: FakeDatabase | None = None, source: int = 0,
                 shared: bool = True, blocks: list[tuple[str, str]] | None = None, **extra: Any) -> FakePage:
        """A page with paragraphs (or explicit blocks), in a database's data source or standalone."""
        page = FakePage(self.new_id(), title, blocks or [("paragraph", p) for p in paragraphs],
                        edited=f"2025-02-{next(self._clock) % 28 + 1:02d}T10:00:00.000Z",
                        source=database.sources[source] if database else None, shared=shared, **extra)
        self.pages[_key(page.id)] = page
        return page

    def visible(self, page: FakePage) -> bool:
        """Whether the integration can see ``page`` (through its database or its own sharing)."""
        if page.in_trash:
            return False
        if page.source is not None:
            return self.databases[_key(page.source.database_id)].shared
        return page.shared

    # -- payloads -------------------------------------------------------------------------------------
    def page_json(self, page: FakePage) -> dict[str, Any]:
        """A page object as Notion returns it."""
        user = {"object": "user", "id": "00000000-0000-4000-8000-0000000000aa"}
        if page.source is not None:
            parent: dict[str, Any] = {"type": "data_source_id", "data_source_id": page.source.id,
                                      "database_id": page.source.database_id}
            properties: dict[str, Any] = {
                page.source.title_property: {"id": "title", "type": "title", "title": rich(page.title)},
                "Summary": {"id": "Sm%3Dq", "type": "rich_text", "rich_text": rich(page.summary)},
            }
        else:
            parent = {"type": "workspace", "workspace": True}
            properties = {"title": {"id": "title", "type": "title", "title": rich(page.title)}}
        return {"object": "page", "id": page.id, "created_time": EPOCH, "last_edited_time": page.edited,
                "created_by": user, "last_edited_by": user, "cover": None, "icon": None, "parent": parent,
                "archived": page.in_trash, "in_trash": page.in_trash, "is_locked": False,
                "properties": properties, "url": page.url, "public_url": page.public_url}

    def block_json(self, page: FakePage, n: int, kind: str, text: str) -> dict[str, Any]:
        """A block object; text blocks carry rich text, others their own shape."""
        content: dict[str, Any]
        if kind == "divider":
            content = {}
        elif kind == "image":
            content = {"type": "external", "external": {"url": text}, "caption": []}
        else:
            content = {"rich_text": rich(text), "color": "default"}
            if kind.startswith("heading_"):
                content["is_toggleable"] = False
        return {"object": "block", "id": f"{page.id[:-4]}{n:04x}", "parent": {"type": "page_id", "page_id": page.id},
                "created_time": EPOCH, "last_edited_time": page.edited, "has_children": False,
                "archived": False, "in_trash": False, "type": kind, kind: content}

    def source_json(self, source: FakeDataSource) -> dict[str, Any]:
        """A data source object."""
        return {"object": "data_source", "id": source.id, "title": rich(source.name), "description": [],
                "parent": {"type": "database_id", "database_id": source.database_id},
                "database_parent": {"type": "workspace", "workspace": True}, "is_inline": False,
                "in_trash": False, "archived": False, "created_time": EPOCH, "last_edited_time": EPOCH,
                "properties": source.properties(), "icon": None, "cover": None,
                "url": f"https://www.notion.so/{_key(source.id)}", "public_url": None}

    @staticmethod
    def listing(results: list[dict[str, Any]], kind: str, start: str | None, size: int) -> dict[str, Any]:
        """A paginated list object; the cursor is the id of the next result."""
        offset = next((i for i, r in enumerate(results) if r["id"] == start), 0) if start else 0
        chunk = results[offset:offset + size]
        more = offset + size < len(results)
        return {"object": "list", "results": chunk, "next_cursor": results[offset + size]["id"] if more else None,
                "has_more": more, "type": kind, kind: {}, "request_id": "fake-request"}

    def error(self, status: int, body: Any, headers: dict[str, str]) -> httpx.Response:
        """Notion's error shape, for injected faults and natural failures alike."""
        if not (isinstance(body, dict) and body.get("object") == "error"):
            message = body.get("error", str(body)) if isinstance(body, dict) else f"fake error {status}"
            body = {"object": "error", "status": status, "code": ERROR_CODES.get(status, "invalid_request"),
                    "message": message, "request_id": "fake-request"}
        return json_response(status, body, headers)

    def refuse(self, status: int, message: str) -> httpx.Response:
        """A Notion error response."""
        return self.error(status, {"object": "error", "status": status, "code": ERROR_CODES[status],
                                   "message": message, "request_id": "fake-request"}, {})

    # -- handlers -------------------------------------------------------------------------------------
    def _guard(self, handler: Callable[[httpx.Request, re.Match[str]], httpx.Response], *, content: bool = True
               ) -> Callable[[httpx.Request, re.Match[str]], httpx.Response]:
        """Checks Notion-Version, the bearer token and the read-content capability first."""
        def guarded(request: httpx.Request, match: re.Match[str]) -> httpx.Response:
            version = request.headers.get("notion-version")
            if not version:
                return self.error(400, {"object": "error", "status": 400, "code": "missing_version",
                                        "message": "Notion-Version header failed validation."}, {})
            if version != NOTION_VERSION:
                return self.refuse(400, f"This fake speaks Notion-Version {NOTION_VERSION}, not {version}.")
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.tokens:
                return self.refuse(401, "API token is invalid.")
            if content and not self.can_read_content:
                return self.refuse(403, "Insufficient permissions for this endpoint.")
            return handler(request, match)
        return guarded

    def _me(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        return json_response(200, {
            "object": "user", "id": "00000000-0000-4000-8000-0000000000b0", "name": self.bot_name,
            "avatar_url": None, "type": "bot",
            "bot": {"owner": {"type": "workspace", "workspace": True},
                    "workspace_id": "00000000-0000-4000-8000-0000000000c0", "workspace_name": self.workspace_name,
                    "workspace_limits": {"max_file_upload_size_in_bytes": 5_242_880}},
            "request_id": "fake-request",
        })

    def _search(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        body = body_of(request) or {}
        size = int(body.get("page_size", 100))
        if not 1 <= size <= 100:
            return self.refuse(400, f"body.page_size should be ≤ `100`, instead was `{size}`.")
        words = str(body.get("query") or "").lower().split()
        wanted = (body.get("filter") or {}).get("value")
        results: list[dict[str, Any]] = []
        if wanted in (None, "page"):
            pages = [p for p in self.pages.values()
                     if self.visible(p) and all(w in p.title.lower() for w in words)]
            pages.sort(key=lambda p: p.edited, reverse=True)
            results += [self.page_json(p) for p in pages]
        if wanted in (None, "data_source"):
            results += [self.source_json(s) for d in self.databases.values() if d.shared for s in d.sources
                        if all(w in s.name.lower() for w in words)]
        return json_response(200, self.listing(results, "page_or_data_source", body.get("start_cursor"), size))

    def _database(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        database = self.databases.get(_key(match.group(1)))
        if database is None or not database.shared:
            return self.refuse(404, f"Could not find database with ID: {match.group(1)}. Make sure the relevant "
                                    "pages and databases are shared with your integration.")
        return json_response(200, {
            "object": "database", "id": database.id, "title": rich(database.title), "description": [],
            "parent": {"type": "workspace", "workspace": True}, "is_inline": False, "in_trash": False,
            "is_locked": False, "created_time": EPOCH, "last_edited_time": EPOCH,
            "data_sources": [{"id": s.id, "name": s.name} for s in database.sources],
            "icon": None, "cover": None, "url": f"https://www.notion.so/{_key(database.id)}", "public_url": None,
        })

    def _source(self, given: str) -> FakeDataSource | None:
        for database in self.databases.values():
            for source in database.sources:
                if _key(source.id) == _key(given) and database.shared:
                    return source
        return None

    def _data_source(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        source = self._source(match.group(1))
        if source is None:
            return self.refuse(404, f"Could not find data_source with ID: {match.group(1)}. Make sure the relevant "
                                    "pages and databases are shared with your integration.")
        return json_response(200, self.source_json(source))

    def _query(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        source = self._source(match.group(1))
        if source is None:
            return self.refuse(404, f"Could not find data_source with ID: {match.group(1)}. Make sure the relevant "
                                    "pages and databases are shared with your integration.")
        body = body_of(request) or {}
        size = int(body.get("page_size", 100))
        if not 1 <= size <= 100:
            return self.refuse(400, f"body.page_size should be ≤ `100`, instead was `{size}`.")
        pages = [p for p in self.pages.values() if p.source is source and not p.in_trash]
        if body.get("result_type") == "data_source":
            pages = []
        try:
            if "filter" in body:
                pages = [p for p in pages if self._matches(p, source, body["filter"], depth=0)]
        except ValueError as problem:
            return self.refuse(400, str(problem))
        return json_response(200, self.listing([self.page_json(p) for p in pages], "page_or_data_source",
                                               body.get("start_cursor"), size))

    def _matches(self, page: FakePage, source: FakeDataSource, rule: Any, *, depth: int) -> bool:
        """Evaluate a filter object the way Notion does for text properties."""
        if not isinstance(rule, dict):
            raise ValueError("body.filter should be an object.")
        for compound in ("or", "and"):
            if compound in rule:
                parts = rule[compound]
                if depth >= 2 or not isinstance(parts, list) or len(parts) > 100 or len(rule) != 1:
                    raise ValueError(f"body.filter.{compound} should be an array of at most 100 filters, "
                                     "nested at most two levels deep.")
                results = [self._matches(page, source, part, depth=depth + 1) for part in parts]
                return any(results) if compound == "or" else all(results)
        wanted = rule.get("property")
        schema = next((p for name, p in source.properties().items() if wanted in (name, p["id"])), None)
        if schema is None:
            raise ValueError(f"Could not find property with name or id: {wanted}")
        kind = schema["type"]
        condition = rule.get(kind)
        others = set(rule) - {"property", kind}
        if not isinstance(condition, dict) or others or len(condition) != 1 or next(iter(condition)) not in \
                TEXT_OPERATORS:
            raise ValueError(f"body.filter for property {wanted} should be {{\"{kind}\": {{<text operator>: ...}}}}.")
        operator, operand = next(iter(condition.items()))
        value = (page.title if kind == "title" else page.summary).lower()
        needle = str(operand).lower()
        return {
            "contains": needle in value, "does_not_contain": needle not in value, "equals": value == needle,
            "does_not_equal": value != needle, "starts_with": value.startswith(needle),
            "ends_with": value.endswith(needle), "is_empty": not value, "is_not_empty": bool(value),
        }[operator]

    def _children(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        page = self.pages.get(_key(match.group(1)))
        if page is None or not self.visible(page):
            return self.refuse(404, f"Could not find block with ID: {match.group(1)}. Make sure the relevant pages "
                                    "and databases are shared with your integration.")
        size = int(request.url.params.get("page_size", "100"))
        blocks = [self.block_json(page, n, kind, text) for n, (kind, text) in enumerate(page.blocks)]
        return json_response(200, self.listing(blocks, "block", request.url.params.get("start_cursor"), size))

    # -- what tests look at ----------------------------------------------------------------------------
    def block_reads(self) -> list[str]:
        """Ids of the pages whose blocks were read, in order."""
        return [m.group(1) for r in self.sent("GET", r"/v1/blocks/[^/]+/children")
                if (m := re.match(r"/v1/blocks/([^/]+)/children", r.url.path))]
