"""A stateful in-memory Intercom: admins, contacts, companies, conversations with their parts, search, notes.

Payloads follow the official spec (``shared/specs/intercom/2.14/api.intercom.io.yaml``): ``admin_with_app``
for ``/me``, ``contact`` embedding its ``companies`` refs, ``company`` (``plan``, ``monthly_spend``,
``custom_attributes``), ``conversation`` with ``source`` (the opening message), ``contacts``,
``conversation_parts`` (the 500 most recent) and ``statistics``, ``conversation_list`` with cursor
``pages`` for search, and ``error.list`` errors. Every request body is validated by
:class:`IntercomContract` before it is served; every request must carry a valid ``Intercom-Version``.

The fake is harsh where Intercom is loose: ``>`` and ``<`` on dates include the bound ("greater (or
equal) than", as the reference says; ``inclusive=False`` makes them strict), ``starting_after`` is an
offset into the current results (Intercom warns its search cursor is stateless), and without ``sort``
results come newest first. Its clock starts a day ago and ticks a minute per change.

    fake = FakeIntercom()
    acme = fake.add_company("Acme", plan="Enterprise", monthly_spend=9000, lifecycle="customer")
    ann = fake.add_contact("Ann Customer", "ann@acme.example", company=acme)
    convo = fake.add_conversation(ann, messages=[("customer", "Export crashes"), ("admin", "Looking"),
                                                 ("close",), ("customer", "Still broken!")])
    fake.notes(convo)           # bodies of the private notes, oldest first
    fake.revoke()               # every token is refused (401 Access Token Invalid)
    fake.forbid_companies()     # the token lacks "Read and list users and companies" for companies (403)
    fake.rate_limit()           # the next request gets 429 with X-RateLimit-Reset
    fake.garble(convo, {"id": "abc"})  # search lists it with these fields changed (a mapping), or as the value
    fake.float_ids = True       # every numeric id answered as a JSON float (7001.0), as JSON bridges do
"""

from __future__ import annotations

import base64
import copy
import functools
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from tests.contract import SPECS, OpenAPIContract, _nullable_to_json_schema
from tests.fakes.base import FakeAPI, Fault, Handler, body_of, json_response

HOST = "api.intercom.io"
TOKEN = "good-token"
APP_ID = "acme1234"
EPOCH = int(time.time()) - 86_400
PARTS_LIMIT = 500
CUSTOMER, ADMIN, BOT = ("customer", "user", "contact", "lead"), ("admin", "agent"), ("bot", "fin")
EVENTS = {"close": "closed", "open": "open", "assignment": None, "snoozed": "snoozed", "note": None}
ERRORS = {400: ("parameter_invalid", "Invalid request"), 401: ("unauthorized", "Access Token Invalid"),
          403: ("token_unauthorized", "Not authorized to access resource"), 404: ("not_found", "Resource Not Found"),
          429: ("rate_limit_exceeded", "Exceeded rate limit of 10000 in 60_seconds"),
          504: ("service_unavailable", "Sorry, the API service is temporarily unavailable")}
OPERATORS = {"=", "!=", "IN", "NIN", ">", "<"}
SEARCHABLE = {"id": str, "created_at": int, "updated_at": int, "state": str, "open": bool, "contact_ids": str}


class IntercomContract(OpenAPIContract):
    """The Intercom 2.14 spec with the search body corrected as Intercom documents it.

    - ``sort`` (``{"field", "order": ascending|descending}``) is accepted by conversation search and
      documented in the "Pagination & sorting (search)" guide, but absent from the spec snapshot
      (intercom/Intercom-OpenAPI#114).
    - The spec's filters declare no required keys, so a misspelt ``feild`` passes it; Intercom
      refuses a filter without ``field``, ``operator`` and ``value`` (and a group without
      ``operator`` and ``value``), which is what the corrected schema says.
    """

    def __init__(self) -> None:
        super().__init__("intercom/2.14/api.intercom.io.yaml")
        schemas = self.spec["components"]["schemas"]
        single = copy.deepcopy(schemas["single_filter_search_request"])
        single.update(required=["field", "operator", "value"], additionalProperties=False)
        inner = copy.deepcopy(schemas["multiple_filter_search_request"])
        inner["properties"]["value"] = {"type": "array", "items": single}
        inner.update(required=["operator", "value"], additionalProperties=False)
        group = copy.deepcopy(inner)
        group["properties"]["value"] = {"type": "array", "items": {"oneOf": [single, inner]}}
        search = copy.deepcopy(schemas["search_request"])
        search["properties"]["query"] = {"oneOf": [single, group]}
        search["properties"]["sort"] = {
            "type": "object", "required": ["field", "order"], "additionalProperties": False,
            "properties": {"field": {"type": "string"},
                           "order": {"type": "string", "enum": ["ascending", "descending"]}},
        }
        search["additionalProperties"] = False
        self._search = _nullable_to_json_schema(search)
        # The versions this snapshot lists, and the later ones whose specs sit beside it.
        later = [p.name for p in (SPECS / "intercom").iterdir() if p.is_dir()]
        self.versions = tuple(dict.fromkeys([*schemas["intercom_version"]["enum"], *sorted(later), "Unstable"]))

    def _body_schema(self, operation: Mapping[str, Any]) -> dict[str, Any] | None:
        if operation.get("operationId") == "searchConversations":
            return dict(self._search)
        return super()._body_schema(operation)


@functools.lru_cache(maxsize=1)
def intercom_contract() -> IntercomContract:
    """One contract for the whole session (it holds no state; the fake keeps violations)."""
    return IntercomContract()


def _stamp(value: int | datetime | None, default: int) -> int:
    if value is None:
        return default
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def _message(message: Sequence[Any]) -> tuple[str, str, int | datetime | None]:
    """``(who,)``, ``(who, text)`` or ``(who, text, at)``."""
    return str(message[0]), str(message[1] or "") if len(message) > 1 else "", message[2] if len(message) > 2 else None


def _html(text: str) -> str:
    return "".join(f"<p>{line}</p>" for line in text.split("\n")) if text else ""


def _cursor(offset: int) -> str:
    return base64.b64encode(json.dumps([offset]).encode()).decode()


def _offset(cursor: str) -> int | None:
    try:
        return int(json.loads(base64.b64decode(cursor))[0])
    except (ValueError, TypeError, IndexError, KeyError):
        return None


class FakeIntercom(FakeAPI):
    """Intercom's REST API in memory, shaped by the official spec."""

    service = "Intercom"

    def __init__(self, *, host: str | None = HOST, region: str = "US", contract: bool = True,
                 inclusive: bool = True) -> None:
        super().__init__(intercom_contract() if contract else None)
        self.host = host  # other *.intercom.io hosts do not know the token (a wrong region): 401
        self.region = region
        self.inclusive = inclusive
        self.versions_seen: list[str | None] = []
        self.clock = EPOCH
        self._ids = itertools.count(7001)
        self.admins: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.companies: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.parts: dict[str, list[dict[str, Any]]] = {}
        self.tokens: dict[str, str] = {}
        self.denied: dict[str, int] = {}  # "companies" / "contacts" / "conversations" → status
        self.statistics = True
        self._after_search: list[Callable[[], object]] = []
        self._garbled: dict[str, Any] = {}  # conversation id → what search lists in its place
        self._lost: list[Fault] = []
        self.admin = self.add_admin("Ada Admin", "ada@acme.example")
        self.bot = self.add_admin("Fin", "operator+acme@intercom.io", kind="bot")
        self.tokens[f"Bearer {TOKEN}"] = self.admin
        for method, path, handler in (
            ("GET", r"/me", self._me),
            ("POST", r"/conversations/search", self._search),
            ("GET", r"/conversations/(\d+)", self._show),
            ("POST", r"/conversations/(\d+)/reply", self._reply),
            ("GET", r"/contacts/([^/]+)", self._contact),
            ("GET", r"/contacts/([^/]+)/companies", self._contact_companies),
            ("GET", r"/companies/([^/]+)", self._company),
            ("GET", r"/companies", self._company_list),
        ):
            self.route(method, path, self._guarded(handler, path))

    # -- the workspace -------------------------------------------------------------------------
    def tick(self, seconds: int = 60) -> int:
        """Advance the clock; returns the new Unix time."""
        self.clock += seconds
        return self.clock

    def _id(self, hexadecimal: bool = False) -> str:
        number = next(self._ids)
        return f"{number:024x}" if hexadecimal else str(number)

    def add_admin(self, name: str, email: str, *, kind: str = "admin") -> str:
        """A teammate (``kind="bot"`` for Fin-like automation)."""
        admin_id = self._id()
        self.admins[admin_id] = {"type": kind, "id": admin_id, "name": name, "email": email}
        return admin_id

    def issue_token(self, admin_id: str, token: str) -> None:
        """Accept ``Bearer {token}`` as this admin."""
        self.tokens[f"Bearer {token}"] = admin_id

    def revoke(self) -> None:
        """Every token is revoked: requests get 401."""
        self.tokens.clear()

    def forbid(self, area: str, status: int = 403) -> None:
        """The token lacks the permission for ``area`` (companies, contacts, conversations or admins: /me)."""
        self.denied[area] = status

    def forbid_companies(self, status: int = 403) -> None:
        """The token may not read companies (Intercom answers 403, or 401 ``token_unauthorized``)."""
        self.forbid("companies", status)

    def rate_limit(self, *, times: int = 1, reset_in: int = 0, on: str | None = None) -> None:
        """The next ``times`` (matching) requests get 429 with Intercom's rate-limit headers."""
        headers = {"X-RateLimit-Limit": "10000", "X-RateLimit-Remaining": "0",
                   "X-RateLimit-Reset": str(int(time.time()) + reset_in)}
        self.fail(429, times=times, headers=headers, on=on)

    def add_company(self, name: str, *, plan: str | None = None, monthly_spend: float = 0, **custom: Any) -> str:
        """A company; ``custom`` become its custom attributes (e.g. ``lifecycle="customer"``)."""
        company_id = self._id(hexadecimal=True)
        self.companies[company_id] = {
            "type": "company", "id": company_id, "name": name, "app_id": APP_ID, "company_id": f"c-{company_id[-4:]}",
            "plan": {"type": "plan", "id": self._id(), "name": plan} if plan else {},
            "remote_created_at": self.clock, "created_at": self.clock, "updated_at": self.clock,
            "last_request_at": self.clock, "monthly_spend": monthly_spend, "session_count": 0, "user_count": 1,
            "size": 0, "website": "", "industry": "", "custom_attributes": {k: str(v) for k, v in custom.items()},
            "tags": {"type": "tag.list", "tags": []}, "segments": {"type": "segment.list", "segments": []},
        }
        return company_id

    def add_contact(self, name: str, email: str, *, company: str | None = None, role: str = "user") -> str:
        """A user (or ``role="lead"``), optionally in a company."""
        contact_id = self._id(hexadecimal=True)
        self.contacts[contact_id] = {
            "type": "contact", "id": contact_id, "external_id": None, "workspace_id": APP_ID, "role": role,
            "email": email, "email_domain": email.partition("@")[2], "phone": None, "name": name, "owner_id": None,
            "has_hard_bounced": False, "marked_email_as_spam": False, "unsubscribed_from_emails": False,
            "created_at": self.clock, "updated_at": self.clock, "signed_up_at": self.clock, "custom_attributes": {},
            "companies": [company] if company else [],
        }
        return contact_id

    # -- conversations -------------------------------------------------------------------------
    def add_conversation(self, contact: str | None, messages: Sequence[tuple[Any, ...]] = (("customer", "Hello"),),
                         *, state: str | None = None, created_at: int | datetime | None = None,
                         title: str | None = None, admin: str | None = None) -> str:
        """A conversation: the first message is its ``source``, the rest its parts, a minute apart.

        A message is ``(who,)``, ``(who, text)`` or ``(who, text, at)``: ``who`` is customer (user,
        lead, contact), admin (agent), bot, note, or an event (close, open, assignment, snoozed).
        A customer writing to a closed conversation reopens it, as in Intercom. ``state`` overrides
        the state the events leave; the conversation's ``updated_at`` is its last message's time.
        """
        conversation_id = self._id()
        who, text, at = _message(messages[0] if messages else ("customer",))
        start = _stamp(at, _stamp(created_at, self.tick()))
        self.clock = max(self.clock, start)
        author = self._author(str(who), contact, admin)
        contact_ref = self.contacts.get(contact or "")
        self.conversations[conversation_id] = {
            "type": "conversation", "id": conversation_id, "title": title, "created_at": start, "updated_at": start,
            "waiting_since": None, "snoozed_until": None, "open": True, "state": "open", "read": False,
            "priority": "not_priority", "admin_assignee_id": None, "team_assignee_id": None,
            "tags": {"type": "tag.list", "tags": []}, "conversation_rating": None,
            "source": {"type": "conversation", "id": self._id(), "delivered_as":
                       "customer_initiated" if author["type"] in ("user", "lead") else "admin_initiated",
                       "subject": "", "body": _html(text), "author": author, "attachments": [], "url": None,
                       "redacted": False},
            "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": contact, "external_id": None}]
                         if contact_ref else []},
            "teammates": {"type": "admin.list", "teammates": []}, "custom_attributes": {},
            "first_contact_reply": None, "sla_applied": None, "linked_objects":
                {"type": "list", "data": [], "total_count": 0, "has_more": False},
            "ai_agent_participated": False, "ai_agent": None,
        }
        self.parts[conversation_id] = []
        moment = start
        for message in messages[1:]:
            who, text, at = _message(message)
            moment = _stamp(at, moment + 60)
            self.reply(conversation_id, who, text, at=moment, contact=contact, admin=admin)
        if state is not None:
            self.conversations[conversation_id].update(state=state, open=state == "open")
        return conversation_id

    def reply(self, conversation_id: str, who: str, text: str = "", *, at: int | datetime | None = None,
              contact: str | None = None, admin: str | None = None) -> dict[str, Any]:
        """Someone adds a part (a message, a note or an event); the conversation's ``updated_at`` moves."""
        conversation = self.conversations[conversation_id]
        contact = contact or next((c["id"] for c in conversation["contacts"]["contacts"]), None)
        now = _stamp(at, self.tick())
        self.clock = max(self.clock, now)
        kind = "comment" if who in CUSTOMER + ADMIN + BOT else who
        if kind not in EVENTS and kind != "comment":
            raise ValueError(f"unknown message kind {who!r}")
        author = self._author(who, contact, admin)
        state = conversation["state"]
        if kind == "comment" and author["type"] in ("user", "lead") and state == "closed":
            state = "open"  # a customer writing again reopens the conversation
        elif EVENTS.get(kind):
            state = str(EVENTS[kind])
        part = {"type": "conversation_part", "id": self._id(), "part_type": kind,
                "body": _html(text) if kind in ("comment", "note") else None, "created_at": now, "updated_at": now,
                "notified_at": now, "assigned_to": None, "author": author, "attachments": [], "external_id": None,
                "redacted": False, "metadata": {}, "state": state, "tags": [], "event_details": None,
                "app_package_code": None, "email_message_metadata": None}
        self.parts[conversation_id].append(part)
        conversation.update(state=state, open=state == "open", updated_at=now)
        return part

    def set_updated(self, conversation_id: str, at: int | datetime) -> None:
        """Something else changed the conversation at ``at`` (tags, attributes): only ``updated_at`` moves."""
        self.conversations[conversation_id]["updated_at"] = _stamp(at, self.clock)

    def lose_answer(self, *, times: int = 1, on: str | None = None) -> None:
        """The next ``times`` (matching) requests are served, but the answer is lost (a 504 arrives)."""
        self._lost.append(Fault("status", 504, times=times, on=on))

    def after_next_search(self, change: Callable[[], object]) -> None:
        """Run ``change`` right after the next search page is answered (a change between two pages)."""
        self._after_search.append(change)

    def garble(self, conversation_id: str, listed: Any) -> None:
        """Search lists the conversation unreadably: with the fields of a mapping ``listed``, else ``listed`` itself."""
        self._garbled[conversation_id] = listed

    def _listed(self, conversation_id: str) -> Any:
        listed = self._garbled.get(conversation_id)
        body = self.conversation_json(conversation_id, parts=False)
        if listed is None:
            return body
        return {**body, **listed} if isinstance(listed, Mapping) else listed

    def notes(self, conversation_id: str) -> list[str]:
        """Bodies of the conversation's private notes, oldest first."""
        return [p["body"] for p in self.parts[conversation_id] if p["part_type"] == "note"]

    def seen_by_customer(self, conversation_id: str) -> list[str]:
        """Bodies of the teammates' parts the customer can see (comments, not notes)."""
        return [p["body"] for p in self.parts[conversation_id]
                if p["part_type"] == "comment" and p["author"]["type"] in ("admin", "bot")]

    def _author(self, who: str, contact: str | None, admin: str | None) -> dict[str, Any]:
        if who in CUSTOMER and contact in self.contacts:
            person = self.contacts[str(contact)]
            return {"type": person["role"], "id": person["id"], "name": person["name"], "email": person["email"]}
        if who in CUSTOMER:
            return {"type": "user", "id": self._id(hexadecimal=True), "name": "", "email": ""}
        teammate = self.admins[self.bot if who in BOT else admin or self.admin]
        return {"type": teammate["type"], "id": teammate["id"], "name": teammate["name"], "email": teammate["email"]}

    # -- payloads ------------------------------------------------------------------------------
    def conversation_json(self, conversation_id: str, *, parts: bool = True) -> dict[str, Any]:
        """A conversation as GET /conversations/{id} answers (``parts=False``: as search lists it)."""
        body = copy.deepcopy(self.conversations[conversation_id])
        every = self.parts[conversation_id]
        body["statistics"] = self._statistics(conversation_id) if self.statistics else None
        if parts:
            body["conversation_parts"] = {"type": "conversation_part.list", "total_count": len(every),
                                          "conversation_parts": copy.deepcopy(every[-PARTS_LIMIT:])}
        return body

    def _statistics(self, conversation_id: str) -> dict[str, Any]:
        every = self.parts[conversation_id]
        reopens = sum(1 for before, part in itertools.pairwise(every)
                      if before["state"] == "closed" and part["state"] == "open")
        closes = [p["created_at"] for p in every if p["part_type"] == "close"]
        return {"type": "conversation_statistics", "count_reopens": reopens, "count_conversation_parts": len(every) + 1,
                "last_close_at": closes[-1] if closes else None, "count_assignments": 0}

    # -- plumbing ------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Another Intercom host does not know the token (a wrong region); any other host is no API at all."""
        if self.host is not None and request.url.host != self.host:
            with self._lock:
                request.read()
                self.requests.append(request)
            if request.url.host.endswith("intercom.io"):
                return self.error(401, None, {})
            return httpx.Response(404, content=b"<html><body>Not Found</body></html>",
                                  headers={"content-type": "text/html"})
        response = super().handle(request)
        for lost in self._lost:
            if response.is_success and lost.matches(request):
                lost.times -= 1
                if lost.times <= 0:
                    self._lost.remove(lost)
                return self.error(504, None, {})
        return response

    def error(self, status: int, body: Any, headers: dict[str, str]) -> httpx.Response:
        """Intercom's ``error.list``."""
        if body is None:
            code, message = ERRORS.get(status, ("server_error", "Something went wrong"))
            body = {"type": "error.list", "request_id": str(uuid.uuid4()), "errors": [{"code": code,
                                                                                     "message": message}]}
        return json_response(status, body, headers)

    def _refuse(self, status: int, code: str, message: str) -> httpx.Response:
        return self.error(status, {"type": "error.list", "request_id": str(uuid.uuid4()),
                                   "errors": [{"code": code, "message": message}]}, {})

    def _guarded(self, handler: Handler, path: str) -> Handler:
        area = next((a for a in ("companies", "contacts", "conversations") if a in path), "admins")

        def guarded(request: httpx.Request, match: re.Match[str]) -> httpx.Response:
            version = request.headers.get("intercom-version")
            self.versions_seen.append(version)
            if version is not None and self.contract is not None and version not in intercom_contract().versions:
                return self._refuse(400, "intercom_version_invalid", f"The requested version {version} is not valid")
            admin = self.tokens.get(request.headers.get("authorization", ""))
            if admin is None:
                return self.error(401, None, {})
            status = self.denied.get("companies" if "companies" in request.url.path else area)
            if status is not None:  # a valid token without the permission
                return self._refuse(status, "token_unauthorized", "Not authorized to access resource")
            request.extensions["intercom_admin"] = admin
            return handler(request, match)

        return guarded

    # -- routes --------------------------------------------------------------------------------
    def _me(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        admin = self.admins[request.extensions["intercom_admin"]]
        return json_response(200, {**admin, "job_title": "Support lead", "away_mode_enabled": False,
                                   "away_mode_reassign": False, "has_inbox_seat": True, "team_ids": [],
                                   "email_verified": True, "avatar": {"type": "avatar", "image_url": None},
                                   "app": {"type": "app", "id_code": APP_ID, "name": "Acme", "region": self.region,
                                           "timezone": "Europe/Dublin", "created_at": EPOCH,
                                           "identity_verification": False}})

    def _matches(self, query: Mapping[str, Any], conversation: Mapping[str, Any]) -> bool:
        if query.get("operator") in ("AND", "OR"):
            results = [self._matches(q, conversation) for q in query["value"]]
            return all(results) if query["operator"] == "AND" else any(results)
        field, operator, wanted = query["field"], query["operator"], query["value"]
        if field == "contact_ids":
            values: list[Any] = [c["id"] for c in conversation["contacts"]["contacts"]]
        else:
            values = [conversation.get(field)]
        kind = SEARCHABLE[field]
        wanted = [kind(w) for w in wanted] if isinstance(wanted, list) else kind(wanted)
        test: dict[str, Callable[[Any], bool]] = {
            "=": lambda v: v == wanted, "!=": lambda v: v != wanted, "IN": lambda v: v in wanted,
            "NIN": lambda v: v not in wanted, ">": lambda v: v >= wanted if self.inclusive else v > wanted,
            "<": lambda v: v <= wanted if self.inclusive else v < wanted,
        }
        return any(v is not None and test[operator](v) for v in values)

    def _search(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        body = body_of(request)
        fields = re.findall(r'"field": "([^"]+)"', json.dumps(body["query"]))
        unknown = [f for f in fields if f not in SEARCHABLE]
        if unknown:
            return self._refuse(400, "parameter_invalid", f"{unknown[0]} is not a searchable field")
        operators = set(re.findall(r'"operator": "([^"]+)"', json.dumps(body["query"]))) - {"AND", "OR"}
        if operators - OPERATORS:  # >= and <= are refused for dates; the string operators are not modelled
            return self._refuse(400, "parameter_invalid", f"operator {sorted(operators - OPERATORS)[0]} is not "
                                                          "supported here")
        paging = body.get("pagination") or {}
        per_page = int(paging.get("per_page") or 20)
        if not 1 <= per_page <= 150:
            return self._refuse(400, "parameter_invalid", "per_page must be between 1 and 150")
        found = [c for c in self.conversations.values() if self._matches(body["query"], c)]
        order = body.get("sort") or {"field": "updated_at", "order": "descending"}
        found.sort(key=lambda c: (c.get(order["field"]), int(c["id"])), reverse=order["order"] == "descending")
        start = _offset(paging["starting_after"]) if paging.get("starting_after") else 0
        if start is None:
            return self._refuse(400, "parameter_invalid", "starting_after is invalid")
        page = found[start:start + per_page]
        pages: dict[str, Any] = {"type": "pages", "page": start // per_page + 1, "per_page": per_page,
                                 "total_pages": max(1, -(-len(found) // per_page))}
        if start + per_page < len(found):
            pages["next"] = {"per_page": per_page, "starting_after": _cursor(start + per_page)}
        answer = json_response(200, {"type": "conversation.list", "total_count": len(found), "pages": pages,
                                     "conversations": [self._listed(c["id"]) for c in page]})
        while self._after_search:
            self._after_search.pop(0)()
        return answer

    def _show(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if match.group(1) not in self.conversations:
            return self.error(404, None, {})
        body = self.conversation_json(match.group(1))
        if request.url.params.get("display_as") == "plaintext":
            for part in body["conversation_parts"]["conversation_parts"]:
                part["body"] = re.sub(r"<[^>]+>", " ", part["body"]).strip() if part["body"] else part["body"]
        return json_response(200, body)

    def _reply(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        conversation_id = match.group(1)
        if conversation_id not in self.conversations:
            return self.error(404, None, {})
        body = body_of(request)
        if body.get("message_type") not in ("comment", "note") or not str(body.get("body") or "").strip():
            return self._refuse(400, "parameter_invalid", "body is required for comments and notes")
        if body["type"] == "admin":
            if body["admin_id"] not in self.admins:
                return self._refuse(404, "admin_not_found", "Admin not found")
            part = self.reply(conversation_id, "note" if body["message_type"] == "note" else "admin",
                              admin=body["admin_id"])
        else:
            part = self.reply(conversation_id, "customer")
        part["body"] = body["body"]  # notes keep the HTML they were sent with
        answer = self.conversation_json(conversation_id, parts=False)
        answer["conversation_parts"] = {"type": "conversation_part.list", "total_count": 1,
                                        "conversation_parts": [copy.deepcopy(part)]}
        return json_response(200, answer)

    def contact_json(self, contact_id: str) -> dict[str, Any]:
        """A contact as GET /contacts/{id} answers, its companies embedded as refs."""
        body = copy.deepcopy(self.contacts[contact_id])
        refs = [{"type": "company", "id": c, "url": f"/companies/{c}"} for c in body["companies"]]
        body["companies"] = {"type": "list", "data": refs, "url": f"/contacts/{contact_id}/companies",
                             "total_count": len(refs), "has_more": False}
        return body

    def _contact(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if match.group(1) not in self.contacts:
            return self._refuse(404, "not_found", "User Not Found")
        return json_response(200, self.contact_json(match.group(1)))

    def _contact_companies(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if match.group(1) not in self.contacts:
            return self._refuse(404, "not_found", "User Not Found")
        # The spec's schema names the list `companies`; its example (and Intercom) answer `data`.
        found = [copy.deepcopy(self.companies[c]) for c in self.contacts[match.group(1)]["companies"]]
        return json_response(200, {"type": "list", "data": found, "total_count": len(found),
                                   "pages": {"type": "pages", "page": 1, "per_page": 50, "total_pages": 1}})

    def _company(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if match.group(1) not in self.companies:
            return self._refuse(404, "company_not_found", "Company Not Found")
        return json_response(200, copy.deepcopy(self.companies[match.group(1)]))

    def _company_list(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        per_page = int(request.url.params.get("per_page", 15))
        page = int(request.url.params.get("page", 1))
        every = list(self.companies.values())
        return json_response(200, {"type": "list", "total_count": len(every),
                                   "data": copy.deepcopy(every[(page - 1) * per_page:page * per_page]),
                                   "pages": {"type": "pages", "page": page, "per_page": per_page,
                                             "total_pages": max(1, -(-len(every) // per_page))}})
