"""Reading Zendesk tickets: the incremental export's pages (why that endpoint: see the package docstring),
one ticket with its thread, and a ticket's comments, newest or oldest first."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from frontline.connectors.http import VendorAPI
from frontline.connectors.zendesk.api import SERVICE, ticket_number
from frontline.connectors.zendesk.payloads import (
    Sideloads,
    TicketReader,
    carries_marker,
    comment_reference,
    listed_label,
    sort_listed,
    zendesk_id,
)
from frontline.connectors.zendesk.settings import ZendeskSettings
from frontline.errors import UnavailableError
from frontline.model import Ticket
from frontline.ports import Page

EXPORT = "/api/v2/incremental/tickets/cursor"
PAGE_MAX = 1000  # the export's largest page
# The requester and organization (plan, MRR), the due times of the account's SLA policies (breach_at), and
# the ticket's metrics, whose requester_updated_at tells a customer's new message apart from an agent's
# reply or frontline's own note without reading the thread (frontline.flows.retriage).
INCLUDE = "users,organizations,slas,metric_sets"
# Pages with no wanted ticket read in one call before handing back (the export allows 10 a minute).
SKIP_PAGES = 10


class TicketExport:
    """New and open tickets from the cursor-based incremental export, and single tickets with their comments."""

    def __init__(self, api: VendorAPI, options: ZendeskSettings, reader: TicketReader) -> None:
        self.api = api
        self.options = options
        self.reader = reader
        url = httpx.URL(options.api_root)
        self.account = f"{url.host}{url.path.rstrip('/')}"

    def _own(self, saved: str | None) -> str | None:
        """The export cursor inside a saved one, or None (start over) when it belongs to another account."""
        if not saved:
            return None
        after, sep, account = saved.rpartition("@")
        if not sep:
            return saved  # a bare Zendesk cursor
        return after if account == self.account and after else None

    def _start_time(self) -> int:
        """Where a first run starts: ``zendesk.lookback_days`` ago (0 days: the beginning)."""
        days = self.options.lookback_days
        return 0 if days == 0 else int(time.time()) - days * 86_400

    async def list_changed(self, cursor: str | None, limit: int) -> Page[Ticket]:
        """New and open tickets changed after ``cursor``, oldest change first.

        The cursor is the export's ``after_cursor`` tagged with the account it belongs to, so a
        saved position is never applied to another account (which would skip its older tickets).
        """
        params: dict[str, Any] = {"per_page": max(1, min(limit, PAGE_MAX)), "include": INCLUDE,
                                  "exclude_deleted": "true"}
        wanted: list[Mapping[str, Any]] = []
        unreadable: list[tuple[str, str]] = []
        body: Mapping[str, Any] = {}
        more = False
        cursor = self._own(cursor)
        for _ in range(SKIP_PAGES):
            position = {"cursor": cursor} if cursor else {"start_time": self._start_time()}
            body = await self.api.json("GET", EXPORT, params={**params, **position})
            wanted, unreadable = sort_listed(body.get("tickets"), self.options.statuses)
            after = body.get("after_cursor") or cursor
            more = body.get("end_of_stream") is False
            moved = after != cursor
            cursor = after
            # A page with an unreadable ticket is handed back too: passing it would lose the ticket.
            if wanted or unreadable or not more or not moved:
                break
        sideloads = Sideloads.of(body)
        wanted.sort(key=lambda t: (t.get("generated_timestamp") or 0, t.get("updated_at") or "",
                                   zendesk_id(t.get("id")) or 0))
        tickets: list[Ticket] = []
        for place, raw in enumerate(wanted, start=1):
            try:
                tickets.append(self.reader.ticket(raw, sideloads))
            except (ValueError, TypeError, KeyError, AttributeError) as error:  # a field of an unexpected shape
                unreadable.append((listed_label(raw.get("id"), place),
                                   f"Zendesk listed a ticket frontline cannot read ({error}); it is listed again "
                                   "next run"))
        saved = f"{cursor}@{self.account}" if cursor else None
        return Page(items=tickets, cursor=saved, has_more=more, unreadable=unreadable)

    async def get(self, ticket_id: str) -> Ticket:
        """One ticket with its whole thread, requester and organization."""
        number = ticket_number(ticket_id)
        body = await self.api.json("GET", f"/api/v2/tickets/{number}", params={"include": INCLUDE})
        raw = body.get("ticket") if isinstance(body, Mapping) else None
        if not isinstance(raw, Mapping) or zendesk_id(raw.get("id")) is None:
            raise UnavailableError(SERVICE, f"answered GET /api/v2/tickets/{number} without a ticket",
                                   hint="Check ZENDESK_BASE_URL: a proxy may be rewriting answers")
        comments = [c async for c in self.comments(number, newest_first=False)]
        return self.reader.ticket(raw, Sideloads.of(body), comments)

    async def comments(self, number: int, *, newest_first: bool) -> AsyncIterator[Mapping[str, Any]]:
        """The ticket's comments page by page (100 a page), in the order asked for."""
        params: dict[str, Any] = {"page[size]": 100, "sort": "-created_at" if newest_first else "created_at"}
        while True:
            body = await self.api.json("GET", f"/api/v2/tickets/{number}/comments", params=params)
            for comment in body.get("comments") or ():
                yield comment
            meta = body.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                return
            params = {**params, "page[after]": meta["after_cursor"]}

    async def find_note(self, ticket_id: str, marker: str) -> str | None:
        """The private note carrying ``marker`` on the ticket (newest first), as ``comment:ID``; else None."""
        async for comment in self.comments(ticket_number(ticket_id), newest_first=True):
            if carries_marker(comment, marker):
                return comment_reference(comment.get("id"))
        return None
