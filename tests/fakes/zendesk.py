"""A stateful in-memory Zendesk Support: tickets, comments, users, organizations, bulk jobs.

Payloads follow the official spec (``shared/specs/zendesk/oas.yaml``): ``TicketObject``,
``TicketCommentObject``, ``UserObject``, ``OrganizationObject`` with ``organization_fields``,
``CursorBasedExportIncrementalTicketsResponse`` (``after_cursor``, ``end_of_stream``), cursor
pagination ``meta``/``links`` on comments, and ``JobStatusObject`` with per-ticket results.

Every request body is validated against the spec by :class:`ZendeskContract` before it is served.
The incremental export is a real change stream: every change moves a ticket to the end of it,
deleted tickets stay in it (unless ``exclude_deleted``), and its cursors last between runs.

    fake = FakeZendesk()
    org = fake.add_organization("Acme", plan="enterprise", mrr=9000)
    user = fake.add_user("Ann", "ann@acme.example", organization_id=org)
    ticket = fake.add_ticket("Cannot log in", "Locked out", requester_id=user, tags=["vip"])
    fake.revoke()                       # every token is now refused (401)
    fake.reject(ticket, "Priority is invalid")   # its next update fails (422 / a failed job result)
    fake.garble(ticket, {"id": "abc"})  # the export lists it with these fields changed ("abc" for its id)
    fake.garble(ticket, "oops")         # the export lists "oops" where the ticket was
    fake.customer_reply(ticket, "Still broken")  # the requester adds a public comment
    fake.float_ids = True               # every id answered as a JSON float (106.0), as JSON bridges do
"""

from __future__ import annotations

import base64
import copy
import functools
import itertools
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.contract import OpenAPIContract, _nullable_to_json_schema
from tests.fakes.base import FakeAPI, Fault, Handler, body_of, json_response

HOST = "acme.zendesk.com"
ADMIN_EMAIL = "ada@acme.example"
ADMIN_TOKEN = "good-token"
# The fake's clock starts a day ago and ticks a minute per change: inside the adapter's first-run
# lookback window, and in the past as Zendesk requires of start_time.
EPOCH = int(time.time()) - 86_400

# Fields Zendesk documents that the spec snapshot lacks, with the reason they are allowed.
DOCUMENTED_EXTRAS = {
    "additional_tags": "Update Ticket / Update Many Tickets: 'additional_tags' adds tags without replacing the "
                       "ticket's tags (developer.zendesk.com, Tickets → Updating tag lists); absent from "
                       "TicketUpdateInput in the snapshot",
    "remove_tags": "Update Ticket / Update Many Tickets: removes tags; same documentation, same gap",
}
ERRORS = {
    400: ("InvalidValue", "Invalid request"),
    401: ("Couldn't authenticate you", ""),
    403: ("Forbidden", "You do not have access to this page. Please contact the account owner of this help desk "
                       "for further help."),
    404: ("RecordNotFound", "Not found"),
    409: ("Conflict", "The ticket was updated by someone else at the same time"),
    422: ("RecordInvalid", "Record validation errors"),
    429: ("APIRateLimitExceeded", "Number of allowed API requests per minute exceeded"),
}
NO_ACCOUNT = (b"<!DOCTYPE html><html><head><title>Zendesk</title></head><body><h1>Oops! There is no help desk "
              b"at this address.</h1></body></html>")


class ZendeskContract(OpenAPIContract):
    """The Zendesk spec with the two request bodies its snapshot gets wrong, corrected as documented.

    - ``TicketUpdateInput.custom_fields`` points at the *ticket field definition* (which requires
      ``key``, ``type`` and ``title``); Zendesk documents ``[{"id": …, "value": …}]``, the shape
      ``TicketObject.custom_fields`` already has.
    - ``PUT /api/v2/tickets/update_many`` declares no body; Zendesk documents ``{"tickets": [...]}``,
      each a ticket update with its ``id`` (at most 100), or ``{"ticket": {...}}`` with ``?ids=``.
    """

    def __init__(self, server_prefix: str = "") -> None:
        super().__init__("zendesk/oas.yaml", server_prefix=server_prefix, documented_extras=DOCUMENTED_EXTRAS)
        update = copy.deepcopy(self.spec["components"]["schemas"]["TicketUpdateInput"])
        update["properties"]["custom_fields"] = {"$ref": "#/components/schemas/TicketObject/properties/custom_fields"}
        item = copy.deepcopy(update)
        item["properties"]["id"] = {"type": "integer"}
        item["required"] = ["id"]
        self._update = _nullable_to_json_schema({"type": "object", "properties": {"ticket": update},
                                                 "required": ["ticket"]})
        self._many = _nullable_to_json_schema({
            "type": "object",
            "properties": {"tickets": {"type": "array", "minItems": 1, "maxItems": 100, "items": item},
                           "ticket": update},
            "minProperties": 1,
        })

    def _body_schema(self, operation: Mapping[str, Any]) -> dict[str, Any] | None:
        if operation.get("operationId") == "UpdateTicket":
            return dict(self._update)
        if operation.get("operationId") == "TicketsUpdateMany":
            return dict(self._many)
        return super()._body_schema(operation)


@functools.lru_cache(maxsize=4)
def zendesk_contract(server_prefix: str = "") -> ZendeskContract:
    """One contract per prefix for the whole session (it holds no state; the fake keeps violations)."""
    return ZendeskContract(server_prefix)


def _time(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode(value: int) -> str:
    return base64.urlsafe_b64encode(f"{value}.0||{value}|".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(raw.split(".", 1)[0])
    except (ValueError, UnicodeDecodeError):
        return None


class FakeZendesk(FakeAPI):
    """Zendesk Support in memory, shaped by the official spec."""

    service = "Zendesk"

    def __init__(self, *, host: str | None = HOST, prefix: str = "", contract: bool = True,
                 job_polls: int = 1) -> None:
        super().__init__(zendesk_contract(prefix) if contract else None)
        self.host = host  # requests to any other host meet "no help desk at this address"
        self.prefix = prefix.rstrip("/")
        self.job_polls = job_polls  # "working" answers before a job completes
        self.clock = EPOCH
        self._seq = itertools.count(1)
        self._ids = itertools.count(1001)
        self.users: dict[int, dict[str, Any]] = {}
        self.organizations: dict[int, dict[str, Any]] = {}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self._stream: dict[int, int] = {}  # ticket id → position of its latest change
        self._tokens: dict[str, int] = {}  # accepted Authorization header → user id
        self._rejected: dict[int, str] = {}
        self._garbled: dict[int, Any] = {}  # ticket id → what the export lists in its place
        self.slas: dict[int, list[dict[str, Any]]] = {}  # ticket id → its SLA policy metrics (include=slas)
        self.requester_updated: dict[int, str] = {}  # ticket id → its metric set's requester_updated_at
        self.forbidden = False
        self._lost: list[Fault] = []
        self.admin = self.add_user("Ada Admin", ADMIN_EMAIL, role="admin")
        self.issue_token(self.admin, ADMIN_TOKEN)
        for method, path, handler in (
            ("GET", r"/api/v2/users/me", self._me),
            ("GET", r"/api/v2/incremental/tickets/cursor", self._export),
            ("GET", r"/api/v2/tickets/(\d+)", self._show),
            ("PUT", r"/api/v2/tickets/update_many", self._update_many),
            ("PUT", r"/api/v2/tickets/(\d+)", self._update),
            ("GET", r"/api/v2/tickets/(\d+)/comments", self._comments),
            ("GET", r"/api/v2/job_statuses/([0-9a-f]+)", self._job_status),
            ("GET", r"/api/v2/job_statuses", self._job_list),
        ):
            self.route(method, re.escape(self.prefix) + path, self._guarded(handler, anonymous=path.endswith("me")))

    # -- the account -------------------------------------------------------------------------
    def tick(self) -> int:
        """Advance the clock a minute; returns the new epoch seconds."""
        self.clock += 60
        return self.clock

    def add_user(self, name: str, email: str, *, role: str = "end-user", organization_id: int | None = None,
                 **extra: Any) -> int:
        """A user (``role``: end-user, agent or admin)."""
        user_id = next(self._ids)
        self.users[user_id] = {"id": user_id, "name": name, "email": email, "role": role, "active": True,
                               "suspended": False, "organization_id": organization_id,
                               "url": f"https://{HOST}/api/v2/users/{user_id}.json", "created_at": _time(self.clock),
                               "updated_at": _time(self.clock), **extra}
        return user_id

    def user_id(self, email: str) -> int:
        """The id of the user with this email."""
        return next(i for i, user in self.users.items() if user["email"] == email)

    def add_organization(self, name: str, **fields: Any) -> int:
        """An organization whose ``organization_fields`` are ``fields`` (e.g. ``plan``, ``mrr``)."""
        org_id = next(self._ids)
        self.organizations[org_id] = {"id": org_id, "name": name, "organization_fields": dict(fields),
                                      "url": f"https://{HOST}/api/v2/organizations/{org_id}.json",
                                      "created_at": _time(self.clock), "updated_at": _time(self.clock)}
        return org_id

    def issue_token(self, user_id: int, token: str) -> None:
        """Accept ``{email}/token:{token}`` (Basic) and ``Bearer {token}`` as this user."""
        email = self.users[user_id]["email"]
        pair = base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self._tokens[f"Basic {pair}"] = user_id
        self._tokens[f"Bearer {token}"] = user_id

    def revoke(self) -> None:
        """Every token is revoked: requests get 401."""
        self._tokens.clear()

    def add_ticket(self, subject: str, description: str, *, requester_id: int, status: str = "new",
                   tags: Iterable[str] = (), priority: str | None = None, organization_id: int | None = None,
                   custom_fields: Mapping[int, Any] | None = None) -> int:
        """A ticket whose first (public) comment is ``description``."""
        ticket_id = next(self._ids)
        now = _time(self.tick())
        org = organization_id or self.users[requester_id].get("organization_id")
        self.tickets[ticket_id] = {
            "id": ticket_id, "url": f"https://{HOST}/api/v2/tickets/{ticket_id}.json", "subject": subject,
            "raw_subject": subject, "description": description, "status": status, "priority": priority,
            "type": None, "tags": list(tags), "requester_id": requester_id, "submitter_id": requester_id,
            "assignee_id": None, "organization_id": org, "group_id": None, "via": {"channel": "web"},
            "custom_fields": [{"id": k, "value": v} for k, v in (custom_fields or {}).items()],
            "created_at": now, "updated_at": now, "generated_timestamp": self.clock, "is_public": True,
        }
        self.comments[ticket_id] = []
        self._comment(ticket_id, requester_id, description, public=True)
        self.requester_updated[ticket_id] = now
        self._changed(ticket_id, touch=False)
        return ticket_id

    def change(self, ticket_id: int, **fields: Any) -> None:
        """Someone changes a ticket in Zendesk (it moves to the end of the export stream)."""
        self.tickets[ticket_id].update(fields)
        self._changed(ticket_id)

    def delete(self, ticket_id: int) -> None:
        """The ticket is deleted (it stays in the stream with status ``deleted``)."""
        self.change(ticket_id, status="deleted")

    def reject(self, ticket_id: int, details: str = "Priority: is invalid") -> None:
        """The next update of this ticket fails validation."""
        self._rejected[ticket_id] = details

    def sla(self, ticket_id: int, metric: str, breach_at: str | None, *, stage: str = "active") -> None:
        """The account's SLA policy gives the ticket a ``metric`` (``first_reply_time``…) due at ``breach_at``.

        Sideloaded as Zendesk documents it (Tickets → Sideloading → slas): ``ticket.slas.policy_metrics``,
        each with ``breach_at``, ``stage``, ``metric``, ``days``, ``hours``, ``minutes``.
        """
        self.slas.setdefault(ticket_id, []).append({"breach_at": breach_at, "stage": stage, "metric": metric,
                                                    "days": 0, "hours": 1, "minutes": 0})

    def reply(self, ticket_id: int, body: str, *, public: bool = True) -> None:
        """An agent answers the ticket (a comment by the admin)."""
        self._comment(ticket_id, self.admin, body, public=public)
        self._changed(ticket_id)

    def customer_reply(self, ticket_id: int, body: str) -> None:
        """The requester adds a public comment (their ticket metrics' ``requester_updated_at`` moves)."""
        self._changed(ticket_id)
        self._comment(ticket_id, self.tickets[ticket_id]["requester_id"], body, public=True)
        self.requester_updated[ticket_id] = self.tickets[ticket_id]["updated_at"]

    def garble(self, ticket_id: int, listed: Any) -> None:
        """The export lists the ticket unreadably: with the fields of a mapping ``listed``, else ``listed`` itself."""
        self._garbled[ticket_id] = listed

    def _listed(self, ticket_id: int) -> Any:
        listed = self._garbled.get(ticket_id)
        if listed is None:
            return self._public(self.tickets[ticket_id])
        return {**self._public(self.tickets[ticket_id]), **listed} if isinstance(listed, Mapping) else listed

    def private_notes(self, ticket_id: int) -> list[str]:
        """Bodies of the ticket's internal notes, oldest first."""
        return [c["body"] for c in self.comments[ticket_id] if not c["public"]]

    def _comment(self, ticket_id: int, author_id: int, body: str, *, public: bool) -> dict[str, Any]:
        comment = {"id": next(self._ids), "type": "Comment", "author_id": author_id, "body": body,
                   "html_body": f"<div class=\"zd-comment\"><p>{body}</p></div>", "plain_body": body,
                   "public": public, "attachments": [], "audit_id": next(self._ids),
                   "via": {"channel": "api" if author_id != self.tickets[ticket_id]["requester_id"] else "web"},
                   "created_at": _time(self.clock), "metadata": {"system": {}, "custom": {}}}
        self.comments[ticket_id].append(comment)
        return comment

    def _changed(self, ticket_id: int, *, touch: bool = True) -> None:
        ticket = self.tickets[ticket_id]
        if touch:
            ticket["updated_at"] = _time(self.tick())
            ticket["generated_timestamp"] = self.clock
        self._stream[ticket_id] = next(self._seq)

    # -- plumbing ------------------------------------------------------------------------------
    def lose_answer(self, *, times: int = 1, on: str | None = None) -> None:
        """The next ``times`` (matching) requests are served, but the answer is lost (a 504 arrives)."""
        self._lost.append(Fault("status", 504, times=times, on=on))

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Requests to another host find no help desk (a wrong subdomain); the rest are served."""
        if self.host is not None and request.url.host != self.host:
            with self._lock:
                request.read()
                self.requests.append(request)
            return httpx.Response(404, content=NO_ACCOUNT, headers={"content-type": "text/html"})
        response = super().handle(request)
        for lost in self._lost:
            if response.is_success and lost.matches(request):
                lost.times -= 1
                if lost.times <= 0:
                    self._lost.remove(lost)
                return self.error(504, {"error": "GatewayTimeout", "description": "upstream timed out"}, {})
        return response

    def error(self, status: int, body: Any, headers: dict[str, str]) -> httpx.Response:
        """Zendesk's error shape: ``{"error": ..., "description": ...}``."""
        if body is None:
            name, description = ERRORS.get(status, ("ServerError", "Something went wrong"))
            body = {"error": name, "description": description} if description else {"error": name}
        return json_response(status, body, headers)

    def _guarded(self, handler: Handler, *, anonymous: bool = False) -> Handler:
        def guarded(request: httpx.Request, match: re.Match[str]) -> httpx.Response:
            header = request.headers.get("authorization")
            if header is None and anonymous:
                return json_response(200, {"user": {"id": None, "name": "Anonymous user", "role": "end-user",
                                                    "email": "invalid@example.com"}})
            if header not in self._tokens:
                return self.error(401, None, {})
            if self.forbidden:
                return self.error(403, None, {})
            request.extensions["zendesk_user"] = self._tokens[header]
            return handler(request, match)

        return guarded

    def _me(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        user = dict(self.users[request.extensions["zendesk_user"]])
        return json_response(200, {"user": {**user, "authenticity_token": "csrf"}})

    def _public(self, ticket: Mapping[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(dict(ticket))

    def _with_slas(self, tickets: list[Any], include: str) -> list[Any]:
        """Each ticket with its ``slas`` when ``include`` asks for them (only tickets a policy applies to), and
        its ``metric_set`` (``TicketMetricObject``) when it asks for ``metric_sets``."""
        wanted = {part.strip() for part in include.split(",")}
        if "metric_sets" in wanted:
            tickets = [{**t, "metric_set": self._metric_set(t["id"])}
                       if isinstance(t, dict) and t.get("id") in self.requester_updated else t for t in tickets]
        if "slas" not in wanted:
            return tickets
        return [{**t, "slas": {"policy_metrics": copy.deepcopy(self.slas[t["id"]])}}
                if isinstance(t, dict) and t.get("id") in self.slas else t for t in tickets]

    def _metric_set(self, ticket_id: int) -> dict[str, Any]:
        ticket = self.tickets[ticket_id]
        comments = self.comments[ticket_id]
        return {"id": ticket_id + 500_000, "ticket_id": ticket_id, "created_at": ticket["created_at"],
                "updated_at": ticket["updated_at"], "requester_updated_at": self.requester_updated[ticket_id],
                "latest_comment_added_at": comments[-1]["created_at"] if comments else ticket["created_at"],
                "replies": sum(1 for c in comments[1:] if c["public"] and c["author_id"] != ticket["requester_id"])}

    def _sideloads(self, tickets: Iterable[Mapping[str, Any]], include: str) -> dict[str, Any]:
        wanted = {part.strip() for part in include.split(",") if part.strip()}
        found: dict[str, Any] = {}
        tickets = [t for t in tickets if isinstance(t, Mapping)]
        ids = {t[k] for t in tickets for k in ("requester_id", "submitter_id", "assignee_id") if t.get(k)}
        users = [self.users[i] for i in sorted(ids) if i in self.users]
        if "users" in wanted:
            found["users"] = copy.deepcopy(users)
        if "organizations" in wanted:
            orgs = {t.get("organization_id") for t in tickets} | {u.get("organization_id") for u in users}
            found["organizations"] = [copy.deepcopy(self.organizations[o]) for o in sorted(o for o in orgs if o)
                                      if o in self.organizations]
        return found

    # -- incremental export --------------------------------------------------------------------
    def _export(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        params = request.url.params
        per_page = min(int(params.get("per_page", 1000)), 1000)
        if "cursor" in params:
            after = _decode(params["cursor"])
            if after is None:
                return self.error(400, {"error": "InvalidPaginationParameter", "description": "cursor is invalid"},
                                  {})
            stream = sorted((seq, tid) for tid, seq in self._stream.items() if seq > after)
        elif "start_time" in params:
            start = int(params["start_time"])
            if start > self.clock - 60:
                return self.error(400, {"error": "InvalidValue",
                                        "description": "start_time must be more than a minute in the past"}, {})
            after = 0
            stream = sorted((seq, tid) for tid, seq in self._stream.items()
                            if self.tickets[tid]["generated_timestamp"] >= start)
        else:
            return self.error(400, {"error": "InvalidValue", "description": "start_time or cursor is required"}, {})
        if params.get("exclude_deleted") == "true":
            stream = [(seq, tid) for seq, tid in stream if self.tickets[tid]["status"] != "deleted"]
        page = stream[:per_page]
        if page:
            position = page[-1][0]
        elif "start_time" in params:  # nothing changed since then: the cursor starts at the present
            position = max(self._stream.values(), default=0)
        else:
            position = after
        tickets = self._with_slas([self._listed(tid) for _, tid in page], params.get("include", ""))
        cursor = _encode(position)
        body = {"tickets": tickets, "after_cursor": cursor,
                "after_url": f"https://{HOST}/api/v2/incremental/tickets/cursor.json?cursor={cursor}",
                "before_cursor": None, "before_url": None, "end_of_stream": len(stream) <= per_page,
                **self._sideloads(tickets, params.get("include", ""))}
        return json_response(200, body)

    # -- tickets -------------------------------------------------------------------------------
    def _ticket_or_404(self, match: re.Match[str]) -> dict[str, Any] | None:
        ticket = self.tickets.get(int(match.group(1)))
        return None if ticket is None or ticket["status"] == "deleted" else ticket

    def _show(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        ticket = self._ticket_or_404(match)
        if ticket is None:
            return self.error(404, None, {})
        include = request.url.params.get("include", "")
        body = {"ticket": self._with_slas([self._public(ticket)], include)[0], **self._sideloads([ticket], include)}
        return json_response(200, body)

    def _comments(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        ticket = self._ticket_or_404(match)
        if ticket is None:
            return self.error(404, None, {})
        params = request.url.params
        ordered = list(self.comments[ticket["id"]])
        if params.get("sort") == "-created_at":
            ordered.reverse()
        size = min(int(params.get("page[size]", 100)), 100)
        start = (_decode(params["page[after]"]) or 0) if "page[after]" in params else 0
        page = ordered[start:start + size]
        more = start + size < len(ordered)
        after = _encode(start + size) if more else None
        base = f"https://{HOST}/api/v2/tickets/{ticket['id']}/comments.json"
        return json_response(200, {
            "comments": copy.deepcopy(page),
            "meta": {"has_more": more, "after_cursor": after, "before_cursor": None},
            "links": {"next": f"{base}?page[after]={after}&page[size]={size}" if more else None, "prev": None},
        })

    def _apply(self, ticket: dict[str, Any], changes: Mapping[str, Any], author_id: int) -> dict[str, Any] | None:
        """Apply one ticket update like Zendesk does; returns the comment it added, if any."""
        if "tags" in changes:
            ticket["tags"] = list(dict.fromkeys(changes["tags"]))
        for tag in changes.get("additional_tags", ()):
            if tag not in ticket["tags"]:
                ticket["tags"].append(tag)
        ticket["tags"] = [t for t in ticket["tags"] if t not in set(changes.get("remove_tags", ()))]
        for key in ("priority", "status", "subject", "type", "problem_id", "assignee_id", "group_id"):
            if key in changes:
                ticket[key] = changes[key]
        for field in changes.get("custom_fields", ()):
            ticket["custom_fields"] = [f for f in ticket["custom_fields"] if f["id"] != field["id"]]
            ticket["custom_fields"].append({"id": field["id"], "value": field.get("value")})
        self._changed(ticket["id"])
        comment = changes.get("comment")
        if not comment:
            return None
        body = comment.get("body") or re.sub(r"<[^>]+>", "", comment.get("html_body", ""))
        return self._comment(ticket["id"], author_id, body, public=comment.get("public", True))

    def _update(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        ticket = self._ticket_or_404(match)
        if ticket is None:
            return self.error(404, None, {})
        if ticket["id"] in self._rejected:
            details = self._rejected.pop(ticket["id"])
            return self.error(422, {"error": "RecordInvalid", "description": "Record validation errors",
                                    "details": {"base": [{"description": details}]}}, {})
        changes = body_of(request)["ticket"]
        comment = self._apply(ticket, changes, request.extensions["zendesk_user"])
        events = [{"id": comment["id"], "type": "Comment", "body": comment["body"], "public": comment["public"],
                   "author_id": comment["author_id"]}] if comment else []
        audit = {"id": comment["audit_id"] if comment else next(self._ids), "ticket_id": ticket["id"],
                 "author_id": request.extensions["zendesk_user"], "created_at": ticket["updated_at"],
                 "events": events}
        return json_response(200, {"ticket": self._public(ticket), "audit": audit})

    # -- bulk jobs -----------------------------------------------------------------------------
    def _update_many(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        body = body_of(request)
        if "tickets" in body:
            work = [(t["id"], {k: v for k, v in t.items() if k != "id"}) for t in body["tickets"]]
        else:
            ids = [int(i) for i in request.url.params.get("ids", "").split(",") if i.strip()]
            work = [(i, body["ticket"]) for i in ids]
        job_id = uuid.uuid4().hex
        self.jobs[job_id] = {"work": work, "polls": self.job_polls, "author": request.extensions["zendesk_user"],
                             "status": {"id": job_id, "job_type": "BulkUpdateTickets", "status": "queued",
                                        "total": len(work), "progress": 0, "message": None, "results": None,
                                        "url": f"https://{HOST}/api/v2/job_statuses/{job_id}.json"}}
        return json_response(200, {"job_status": dict(self.jobs[job_id]["status"])})

    def _job_status(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        job = self.jobs.get(match.group(1))
        if job is None:
            return self.error(404, None, {})
        status = job["status"]
        if status["status"] in ("queued", "working"):
            if job["polls"] > 0:
                job["polls"] -= 1
                status.update(status="working", progress=len(job["work"]) // 2)
            else:
                status.update(self._run(job))
        return json_response(200, {"job_status": copy.deepcopy(status)})

    def _job_list(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        """The most recent jobs first, as they stand (listing does not run a job; polling one does)."""
        statuses = [copy.deepcopy(job["status"]) for job in reversed(self.jobs.values())][:100]
        return json_response(200, {"job_statuses": statuses,
                                   "meta": {"has_more": False, "after_cursor": None, "before_cursor": None}})

    def _run(self, job: Mapping[str, Any]) -> dict[str, Any]:
        results = []
        for ticket_id, changes in job["work"]:
            ticket = self.tickets.get(ticket_id)
            if ticket is None or ticket["status"] == "deleted":
                results.append({"id": ticket_id, "action": "update", "success": False,
                                "error": "TicketNotFound", "details": f"Ticket {ticket_id} not found"})
            elif ticket_id in self._rejected:
                results.append({"id": ticket_id, "action": "update", "success": False,
                                "error": "TicketUpdateFailed", "details": self._rejected.pop(ticket_id)})
            else:
                self._apply(ticket, changes, job["author"])
                results.append({"id": ticket_id, "action": "update", "status": "Updated", "success": True})
        stamp = datetime.fromtimestamp(self.clock, UTC).strftime("%Y-%m-%d %H:%M:%S +0000")
        return {"status": "completed", "progress": len(results), "results": results,
                "message": f"Completed at {stamp}"}
