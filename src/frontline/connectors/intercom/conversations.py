"""The Intercom conversation source (why these endpoints and this cursor: see the package docstring)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import stamina

from frontline.config import Settings
from frontline.connectors.http import MAX_RETRY_AFTER, Budget
from frontline.connectors.intercom.api import SERVICE, TOKEN_HELP, IntercomAPI, hint
from frontline.connectors.intercom.customers import Customer, Customers
from frontline.connectors.intercom.package import INTERCOM
from frontline.connectors.intercom.payloads import (
    Position,
    app_host,
    carries_marker,
    conversation_number,
    conversation_of,
    inbox_url,
    new_note_id,
    note_html,
    note_reference,
    page_items,
    raw_parts,
    ref_id,
    search_query,
)
from frontline.connectors.intercom.settings import IntercomSettings
from frontline.credentials import Credentials
from frontline.errors import (
    AuthError,
    ConnectorError,
    FrontlineError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
)
from frontline.model import Conversation
from frontline.ports import Check, Page

if TYPE_CHECKING:
    from frontline.runtime.budgets import BudgetBook

PER_PAGE_MAX = 150  # the search's largest page
SEARCH_PAGES = 10  # search requests in one list_changed call before handing back
WRITE_ATTEMPTS = 5
WRITE_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class Workspace:
    """Who the token is (``GET /me``): the admin, and the workspace (app) with its region."""

    admin_id: str
    admin_name: str
    admin_email: str
    app_id: str
    app_name: str
    region: str
    app_host: str

    @classmethod
    def of(cls, body: object, base_url: str) -> Workspace:
        """From a ``/me`` answer (an ``admin`` with its ``app``)."""
        me: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
        app: Mapping[str, Any] = me["app"] if isinstance(me.get("app"), Mapping) else {}
        region = str(app.get("region") or "")
        return cls(ref_id(me.get("id")) or "", str(me.get("name") or ""), str(me.get("email") or ""),
                   str(app.get("id_code") or ""), str(app.get("name") or ""), region, app_host(region, base_url))


def _retry_write(error: Exception) -> bool | float:
    """stamina hook for the note: a 429 applied nothing; a timeout or 5xx is retried after a marker check."""
    if isinstance(error, RateLimitedError):
        return error.retry_after if error.retry_after <= MAX_RETRY_AFTER else False
    return isinstance(error, UnavailableError)


class IntercomConversations:
    """Conversations from Intercom's search; escalation notes written back as private admin notes."""

    name = "intercom"

    def __init__(self, options: IntercomSettings, *, http: httpx.AsyncClient, credentials: Credentials,
                 lookback_hours: float = 72.0, concurrency: int = 8, budget: Budget | None = None) -> None:
        self.options = options
        self.base_url = options.base_url
        self.lookback_hours = lookback_hours

        async def auth(refresh: bool) -> Mapping[str, str]:
            return (await credentials.get("intercom", refresh=refresh)).headers()

        # Every request names the pinned API version: the app's default version may differ.
        headers = {"Accept": "application/json", "Intercom-Version": options.api_version}
        common: dict[str, Any] = {"auth": auth, "hint": hint(self.base_url), "headers": headers, "budget": budget}
        self.api = IntercomAPI(SERVICE, http, self.base_url, **common)
        # A note is not idempotent: this one never retries on its own (add_note checks the marker first).
        self._write_api = IntercomAPI(SERVICE, http, self.base_url, attempts=1, **common)
        self.customers = Customers(self.api, options, concurrency)
        self._me: Workspace | None = None
        # Whether search's ">" includes its bound (Intercom's reference says "greater (or equal) than");
        # learnt from the first page that shows it, until then `> since - 1` is asked (see search_query).
        self._inclusive = False

    @classmethod
    def from_settings(cls, settings: Settings, *, http: httpx.AsyncClient, credentials: Credentials,
                      budget: Budget | None = None, budgets: BudgetBook | None = None,
                      **_: Any) -> IntercomConversations:
        """The adapter for ``settings.intercom`` on the shared client (INTERCOM_BASE_URL picks the region).

        The budget is ``budget``, else the app's from the process's ``budgets``.
        """
        if budget is None and budgets is not None:
            budget = INTERCOM.budget(budgets, settings.intercom)
        return cls(settings.intercom, http=http, credentials=credentials,
                   lookback_hours=settings.escalation.lookback_hours, concurrency=settings.runner.concurrency,
                   budget=budget)

    async def workspace(self, *, fresh: bool = False) -> Workspace:
        """The token's admin and workspace, read once."""
        if self._me is None or fresh:
            try:
                body = await self.api.json("GET", "/me")
            except AuthError as error:
                if error.status != 403 or fresh:
                    raise
                body = {}  # only inbox links and the default note author need /me: the rest goes on
            self._me = Workspace.of(body, self.base_url)
        return self._me

    # -- reading -------------------------------------------------------------------------------
    async def list_changed(self, cursor: str | None, limit: int) -> Page[Conversation]:
        """Conversations updated after ``cursor``, oldest update first, with parts, contact and company.

        The cursor is a :class:`Position` (a second and the ids already read in it) tagged with the
        workspace; a first run starts ``escalation.lookback_hours`` back.
        """
        me = await self.workspace()
        position = Position.decode(cursor, me.app_id) or Position(int(time.time() - self.lookback_hours * 3600))
        ceiling = int(time.time() - self.options.settle_seconds)
        wanted = max(1, limit)
        found: list[str] = []
        unreadable: dict[str, str] = {}  # a new search from the moved position may list one again
        more = False
        after: str | None = None
        per_page = PER_PAGE_MAX
        for _ in range(SEARCH_PAGES):
            if position.since > ceiling:
                break
            if after is None:  # a new search: its first page also holds the ids already read at `since`
                per_page = min(PER_PAGE_MAX, wanted - len(found) + len(position.seen))
            body = await self.api.json("POST", "/conversations/search", json={
                "query": search_query(position, ceiling, inclusive=self._inclusive),
                "sort": {"field": "updated_at", "order": "ascending"},
                "pagination": {"per_page": per_page, "starting_after": after},
            })
            items, unread, following = page_items(body)
            unreadable.update(unread)
            if not self._inclusive and any(c.updated < position.since for c in items):
                # Intercom's ">" included its bound: ask from `since` itself, so older changes fill no page.
                self._inclusive = True
                after = None
                continue
            fresh = [c for c in items if position.admits(c.updated, c.id)]
            taken = fresh[:wanted - len(found)]
            for item in taken:
                found.append(item.id)
                position = position.after(item.updated, item.id)
            more = len(taken) < len(fresh) or following is not None
            if len(found) >= wanted or following is None:
                break
            # A new search from the moved position cannot skip a conversation that moved between
            # pages (Intercom's starting_after is stateless); only a page that moved nothing (one
            # second holding more than a page of ids already read) is left through starting_after.
            after = None if taken else following
        else:
            more = True
        conversations, failed = await self._read(found)
        unreadable.update(failed)
        return Page(items=conversations, cursor=position.encode(me.app_id), has_more=more,
                    unreadable=list(unreadable.items()))

    async def get(self, conversation_id: str) -> Conversation:
        """One conversation with its parts, contact and company."""
        found, failed = await self._read([self._number(conversation_id)], missing_ok=False)
        if failed:
            [(number, reason)] = failed
            raise UnavailableError(SERVICE, f"answered GET /conversations/{number} with a conversation frontline "
                                            f"cannot read: {reason}")
        return found[0]

    async def _read(self, ids: Sequence[str], *, missing_ok: bool = True
                    ) -> tuple[list[Conversation], list[tuple[str, str]]]:
        """Each conversation in full, and ``(id, reason)`` for each that cannot be read; one deleted since it
        was listed is left out (there is nothing to escalate)."""
        me = await self.workspace()
        raws = await self.customers.gather(self._conversation(i, missing_ok=missing_ok) for i in ids)
        present = [(asked, raw) for asked, raw in zip(ids, raws, strict=True) if raw is not None]
        customers = await self.customers.of(raw for _, raw in present)
        conversations: list[Conversation] = []
        failed: list[tuple[str, str]] = []
        for (asked, raw), customer in zip(present, customers, strict=True):
            try:
                conversations.append(self._build(raw, customer, me))
            except (ValueError, TypeError, KeyError, AttributeError) as error:  # a field of an unexpected shape
                failed.append((asked, f"Intercom answered with a conversation frontline cannot read "
                                                   f"({error}); it is listed again next run"))
        return conversations, failed

    async def _conversation(self, conversation_id: str, *, missing_ok: bool = True) -> Mapping[str, Any] | None:
        try:
            body = await self.api.json("GET", f"/conversations/{conversation_id}")
        except NotFoundError:
            if missing_ok:
                return None
            raise
        if not isinstance(body, Mapping) or body.get("id") is None:
            raise UnavailableError(SERVICE, f"answered GET /conversations/{conversation_id} without a conversation",
                                   hint="Check INTERCOM_BASE_URL: a proxy may be rewriting answers")
        return body

    def _build(self, raw: Mapping[str, Any], customer: Customer, me: Workspace) -> Conversation:
        return conversation_of(raw, contact=customer.contact, company=customer.company, company_note=customer.note,
                               url=inbox_url(me.app_host, me.app_id, conversation_number(raw.get("id")) or ""))

    @staticmethod
    def _number(conversation_id: str) -> str:
        text = conversation_number(conversation_id)
        if text is None:
            raise NotFoundError(SERVICE, f"{conversation_id!r} is not an Intercom conversation id",
                                hint="Intercom conversation ids are numbers, as in the inbox URL")
        return text

    # -- notes ---------------------------------------------------------------------------------
    async def add_note(self, conversation_id: str, body: str, marker: str) -> str:
        """A private note (teammates only, never the customer) by the configured admin, carrying ``marker``."""
        number = self._number(conversation_id)
        admin = self.options.admin_id or (await self.workspace()).admin_id
        if not admin:
            raise ConnectorError(SERVICE, f"no admin to write the note on conversation {number} as",
                                 hint="Set [intercom] admin_id to the id of an admin of the workspace")
        payload = {"message_type": "note", "type": "admin", "admin_id": admin, "body": note_html(body, marker)}
        ambiguous = False
        async for attempt in stamina.retry_context(on=_retry_write, attempts=WRITE_ATTEMPTS, timeout=WRITE_TIMEOUT):
            with attempt:
                if ambiguous:  # the last try may have landed: never write the note twice
                    found = await self.find_note(number, marker)
                    if found:
                        return found
                try:
                    answer = await self._write_api.json("POST", f"/conversations/{number}/reply", json=payload)
                except UnavailableError:
                    ambiguous = True
                    raise
                part = new_note_id(answer, admin, marker) if isinstance(answer, Mapping) else None
                if part is not None:
                    return note_reference(part)
                return await self.find_note(number, marker) or f"conversation:{number}"
        raise AssertionError("unreachable")  # pragma: no cover - stamina re-raises the last error

    async def find_note(self, conversation_id: str, marker: str) -> str | None:
        """The note already carrying ``marker``, among the conversation's 500 most recent parts."""
        raw = await self._conversation(self._number(conversation_id), missing_ok=False)
        for part in reversed(raw_parts(raw or {})):
            if carries_marker(part, marker) and ref_id(part.get("id")) is not None:
                return note_reference(part["id"])
        return None

    # -- setup ---------------------------------------------------------------------------------
    async def diagnose(self) -> list[Check]:
        """``GET /me`` (who, which workspace, region), then one cheap read of conversations and of companies."""
        name = f"conversations {self.name}"
        where = self.base_url
        try:
            me = await self.workspace(fresh=True)
        except AuthError as error:
            if error.status is None:  # no token at all
                return [Check(name, False, error.message, error.hint)]
            if error.status == 403:
                return [Check(name, False, f"{where} refused the token ({error.message})", error.hint)]
            return [Check(name, False, f"{where} rejected the token ({error.message})", TOKEN_HELP)]
        except ConnectorError as error:
            return [Check(name, False, f"{where} did not answer the check: {error.message}",
                          error.hint or "Check INTERCOM_BASE_URL and the network")]
        except FrontlineError as error:  # e.g. a credentials provider that cannot be used
            return [Check(name, False, str(error))]
        if not me.admin_id:
            return [Check(name, False, f"{where} answered /me without an admin: the token was not accepted",
                          TOKEN_HELP)]
        author = self.options.admin_id or me.admin_id
        checks = [Check(name, True, f"ACTIVE: signed in as {me.admin_name or 'admin ' + me.admin_id} "
                                    f"<{me.admin_email or 'no email'}> on workspace {me.app_name or '?'} "
                                    f"(app {me.app_id or '?'}, region {me.region or '?'}) at {where}; "
                                    f"notes are written as admin {author}")]
        checks.append(await self._check(f"{name} conversations", "POST", "/conversations/search", {
            "query": {"field": "updated_at", "operator": ">", "value": int(time.time()) - 86_400},
            "pagination": {"per_page": 1}}, "reads conversations ({count} updated in the last day)"))
        checks.append(await self._check(f"{name} companies", "GET", "/companies", None,
                                        "reads companies ({count} in the workspace): escalations know plan and MRR",
                                        params={"per_page": 1}))
        return checks

    async def _check(self, name: str, method: str, path: str, body: Any, ok: str,
                     params: Mapping[str, Any] | None = None) -> Check:
        try:
            answer = await self.api.json(method, path, json=body, params=params)
        except AuthError as error:
            what = "companies" if "compan" in path else "conversations"
            consequence = ("escalations will say plan and MRR are unknown, and why" if what == "companies"
                           else "nothing can be escalated")
            return Check(name, False, f"the token cannot read {what} ({error.status}): {consequence}", error.hint)
        except FrontlineError as error:
            return Check(name, False, f"{path} did not answer the check: {error}")
        count = answer.get("total_count", "?") if isinstance(answer, Mapping) else "?"
        return Check(name, True, ok.format(count=count))

    async def aclose(self) -> None:
        """Nothing to release: the HTTP client belongs to the caller."""
