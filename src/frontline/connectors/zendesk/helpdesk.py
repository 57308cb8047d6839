"""The Zendesk helpdesk adapter (why these endpoints: see the package docstring).

Reading is :class:`~frontline.connectors.zendesk.listing.TicketExport`'s, writing back
:class:`~frontline.connectors.zendesk.writes.TicketWriter`'s; this class wires them to the settings,
the credentials and the budgets, and checks the account.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from frontline.config import Settings
from frontline.connectors.http import Budget
from frontline.connectors.zendesk.api import SERVICE, ZendeskAPI
from frontline.connectors.zendesk.listing import TicketExport
from frontline.connectors.zendesk.package import ZENDESK
from frontline.connectors.zendesk.payloads import TicketReader
from frontline.connectors.zendesk.settings import ZendeskSettings
from frontline.connectors.zendesk.writes import TicketWriter
from frontline.credentials import Credentials
from frontline.errors import AuthError, ConfigError, ConnectorError, FrontlineError, NotFoundError
from frontline.model import Ticket, WriteBack
from frontline.ports import Check, Page, WriteResult

if TYPE_CHECKING:
    from frontline.runtime.budgets import BudgetBook

TOKEN_HELP = ("Create an API token in Admin Center → Apps and integrations → Zendesk API and set "
              "ZENDESK_EMAIL and ZENDESK_API_TOKEN (or renew ZENDESK_OAUTH_TOKEN), then run `frontline doctor`")


class ZendeskHelpdesk:
    """Tickets from Zendesk Support; decisions written back as tags, priority, fields and a private note."""

    name = "zendesk"

    def __init__(self, options: ZendeskSettings, *, http: httpx.AsyncClient, credentials: Credentials,
                 concurrency: int = 8, budget: Budget | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.options = options
        self.base_url = options.api_root
        self.reader = TicketReader(options.plan_field, options.mrr_field)
        # Extra write-back fields this helpdesk wants, keyed by Zendesk field id; the flow renders
        # them like `writeback.custom_fields` and hands them back in WriteBack.custom_fields.
        self.field_templates: dict[str, str] = {str(k): v for k, v in options.custom_fields.items()}

        async def auth(refresh: bool) -> Mapping[str, str]:
            return (await credentials.get("zendesk", refresh=refresh)).headers()

        common: dict[str, Any] = {"auth": auth, "hint": self._hint, "headers": {"Accept": "application/json"},
                                  "budget": budget}
        self.api = ZendeskAPI(SERVICE, http, self.base_url, **common)
        self._export = TicketExport(self.api, options, self.reader)
        # Writes are not idempotent (each adds a note): their client never retries on its own.
        self._writer = TicketWriter(self.api, ZendeskAPI(SERVICE, http, self.base_url, attempts=1, **common), options,
                                    find_marker=self.find_marker, concurrency=concurrency, clock=clock, sleep=sleep)

    @classmethod
    def from_settings(cls, settings: Settings, *, http: httpx.AsyncClient, credentials: Credentials,
                      budgets: BudgetBook | None = None, **_: Any) -> ZendeskHelpdesk:
        """The adapter for ``settings.zendesk`` on the shared client; ConfigError when no account is set.

        With ``budgets`` (the process's :class:`~frontline.runtime.budgets.BudgetBook`) every request
        waits for the account's limits, and bulk-job polls wait on the budgets' clock.
        """
        if not settings.zendesk.api_root:
            raise ConfigError(settings.source, "zendesk.subdomain",
                              "is not set; set ZENDESK_SUBDOMAIN (acme for acme.zendesk.com), or ZENDESK_BASE_URL "
                              "for an EU/AU data centre or a proxy")
        for key in settings.writeback.custom_fields:
            if not key.strip().isdigit():
                raise ConfigError(settings.source, f"writeback.custom_fields.{key}",
                                  "is not a Zendesk ticket field id; Zendesk fields are set by numeric id, "
                                  "e.g. [zendesk.custom_fields] 360001234567 = \"{category}\"")
        for field_id, template in settings.zendesk.custom_fields.items():
            try:
                template.format(category="", severity="")
            except (KeyError, IndexError, ValueError) as error:
                raise ConfigError(settings.source, f"zendesk.custom_fields.{field_id}",
                                  f"is not a valid template ({error!r}); use {{category}} and {{severity}}") from None
        if budgets is None:
            return cls(settings.zendesk, http=http, credentials=credentials, concurrency=settings.runner.concurrency)
        return cls(settings.zendesk, http=http, credentials=credentials, concurrency=settings.runner.concurrency,
                   budget=ZENDESK.budget(budgets, settings.zendesk), clock=budgets.clock, sleep=budgets.sleep)

    def _hint(self, status: int, message: str) -> str:
        """What to do about a Zendesk error, by status and Zendesk's own words."""
        if status == 401:
            return f"Zendesk rejected the credentials for {self.base_url} (revoked, expired or mistyped). {TOKEN_HELP}"
        if status == 403:
            return ("The token's user lacks a permission: use an admin's email and API token (Zendesk allows the "
                    "ticket export to admins only), or an OAuth token with the read and write scopes")
        if status == 404:
            if message:  # Zendesk's JSON "Not found": the account answered, the record is not there
                return "Check the ticket id; the ticket may have been deleted or merged"
            return (f"No help desk answers at {self.base_url}: check ZENDESK_SUBDOMAIN (acme for acme.zendesk.com), "
                    "or ZENDESK_BASE_URL for an EU/AU data centre or a proxy")
        if status == 422:
            return "Check the ticket field ids in [zendesk.custom_fields] and the values they accept"
        return ""

    # -- reading and writing ---------------------------------------------------------------------
    def count_changed(self, cursor: str | None) -> None:
        """The incremental export cannot count what is ahead of a cursor without reading it: no total."""
        return None

    async def list_changed(self, cursor: str | None, limit: int) -> Page[Ticket]:
        """New and open tickets changed after ``cursor``, oldest change first (the incremental export)."""
        return await self._export.list_changed(cursor, limit)

    async def get(self, ticket_id: str) -> Ticket:
        """One ticket with its whole thread, requester and organization."""
        return await self._export.get(ticket_id)

    async def find_marker(self, ticket_id: str, marker: str) -> str | None:
        """The private note carrying ``marker`` on the ticket (newest first), as ``comment:ID``; else None.

        Bulk jobs still queued or working are waited for first (:meth:`TicketWriter.settle_jobs`), so a
        note a killed run's job is about to add is not missed.
        """
        await self._writer.settle_jobs()
        return await self._export.find_note(ticket_id, marker)

    async def write_back(self, updates: Sequence[WriteBack]) -> list[WriteResult]:
        """One request per ticket, or update_many jobs for a backlog; one result per update, in order."""
        return await self._writer.write_back(updates)

    async def _submit(self, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        """Start an update_many job and return its status unpolled (the crash tests' run that dies here)."""
        return await self._writer._submit(payload)

    # -- setup ---------------------------------------------------------------------------------
    async def diagnose(self) -> list[Check]:
        """One cheap call (``GET /api/v2/users/me``): who is signed in where, or what to fix."""
        name = f"helpdesk {self.name}"
        where = self.base_url
        try:
            body = await self.api.json("GET", "/api/v2/users/me")
        except AuthError as error:
            if error.status == 403:
                return [Check(name, False, f"{where} refused the token ({error.message})", error.hint)]
            if error.status is None:  # no credentials at all
                return [Check(name, False, error.message, error.hint)]
            return [Check(name, False, f"{where} rejected the credentials ({error.message})", TOKEN_HELP)]
        except NotFoundError:
            return [Check(name, False, f"no help desk answers at {where}", self._hint(404, ""))]
        except ConnectorError as error:
            return [Check(name, False, f"{where} did not answer the check: {error.message}",
                          error.hint or "Check ZENDESK_BASE_URL and the network")]
        except FrontlineError as error:  # e.g. a credentials provider that cannot be used
            return [Check(name, False, str(error))]
        found = body.get("user") if isinstance(body, Mapping) else None
        user: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        if not user.get("id"):  # /users/me answers anonymously when no credentials were accepted
            return [Check(name, False, f"{where} treated the request as anonymous: the credentials were not "
                                       "accepted", TOKEN_HELP)]
        who = f"{user.get('name') or 'user ' + str(user['id'])} <{user.get('email') or 'no email'}>"
        role = user.get("role") or "unknown role"
        if user.get("suspended") or user.get("active") is False:
            return [Check(name, False, f"{who} is suspended or deleted on {where}",
                          "Use the API token of an active admin (ZENDESK_EMAIL, ZENDESK_API_TOKEN)")]
        if role == "end-user":
            return [Check(name, False, f"signed in as {who} on {where}, an end user, not an agent",
                          "ZENDESK_EMAIL must be an admin's address: the token acts as that user")]
        if role != "admin":
            return [Check(name, False, f"signed in as {who} on {where}, an {role}: listing tickets uses the "
                                       "incremental export, which Zendesk allows for admins only",
                          "Use an admin's email and API token (ZENDESK_EMAIL, ZENDESK_API_TOKEN)")]
        return [Check(name, True, f"ACTIVE: signed in as {who} ({role}) on {where}")]

    async def aclose(self) -> None:
        """Nothing to release: the HTTP client belongs to the caller."""
