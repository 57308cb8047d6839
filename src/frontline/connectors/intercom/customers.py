"""Who the customer is and what their company is worth, read once per run and said why when it cannot be."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from frontline.connectors.intercom.api import CONTACTS_PERMISSION, IntercomAPI
from frontline.connectors.intercom.payloads import company_ids, company_of, contact_ids, requester_of
from frontline.connectors.intercom.settings import IntercomSettings
from frontline.errors import AuthError, ConnectorError, NotFoundError
from frontline.model import Company, Requester

T = TypeVar("T")
# Contacts and companies change rarely: read once, reused by later pages and polls for this long.
CACHE_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Customer:
    """A conversation's contact and company, or why the company is unknown."""

    contact: Requester
    company: Company | None
    note: str = ""


def refused_note(what: str, error: AuthError) -> str:
    """Why company data is missing when the token may not read it."""
    return (f"the token cannot read {what} ({error.status or 403}): add the {CONTACTS_PERMISSION} permission to the "
            "Intercom app in the Developer Hub")


class Customers:
    """Reads contacts (``GET /contacts/{id}``) and companies (``GET /companies/{id}``) with a short cache.

    ``GET /companies/{id}`` for the company the contact embeds works with either of Intercom's
    permissions for people data ("Read and list users and companies", or "Read one user and one
    company"); listing a contact's companies needs the first. A refusal is remembered, so a token
    without the permission costs one refused call per run, and every conversation says why.
    """

    def __init__(self, api: IntercomAPI, options: IntercomSettings, concurrency: int) -> None:
        self.api = api
        self.options = options
        self.concurrency = concurrency
        self._contacts: dict[str, tuple[float, Mapping[str, Any] | None]] = {}
        self._companies: dict[str, tuple[float, Company | None]] = {}
        self._refused: dict[str, tuple[float, str]] = {}
        self._failed: dict[str, str] = {}

    async def gather(self, calls: Iterable[Awaitable[T]]) -> list[T]:
        """Run calls concurrently, at most ``concurrency`` at once."""
        slots = asyncio.Semaphore(self.concurrency)

        async def one(call: Awaitable[T]) -> T:
            async with slots:
                return await call

        return list(await asyncio.gather(*(one(call) for call in calls)))

    async def of(self, conversations: Iterable[Mapping[str, Any]]) -> list[Customer]:
        """The customer of each conversation, in order; contacts and companies are each read once."""
        raws = list(conversations)
        self._failed = {}
        contacts = {cid: None for raw in raws if (cid := _first(contact_ids(raw)))}
        await self.gather(self._contact(cid) for cid in contacts if not self._cached(self._contacts, cid))
        companies = {company: None for raw in raws for company in self._company_ids(raw)}
        await self.gather(self._company(company) for company in companies
                          if not self._cached(self._companies, company))
        return [self._customer(raw) for raw in raws]

    def _customer(self, raw: Mapping[str, Any]) -> Customer:
        contact_id = _first(contact_ids(raw))
        if contact_id is None:
            return Customer(requester_of(None, raw), None, "the conversation has no contact")
        if contact_id in self._failed:
            return Customer(requester_of(None, raw), None, self._failed[contact_id])
        contact = self._fresh(self._contacts, contact_id)
        refused = self._refusal("contacts")
        if contact is None:
            note = refused or f"the contact {contact_id} no longer exists in Intercom"
            return Customer(requester_of(None, raw), None, note)
        requester = requester_of(contact, raw)
        company_id = _first(company_ids(contact))
        if company_id is None:
            return Customer(requester, None, "the contact has no company in Intercom")
        if company_id in self._failed:
            return Customer(requester, None, self._failed[company_id])
        company = self._fresh(self._companies, company_id)
        if company is None:
            note = self._refusal("companies") or f"the contact's company {company_id} no longer exists in Intercom"
            return Customer(requester, None, note)
        return Customer(requester, company)

    def _company_ids(self, raw: Mapping[str, Any]) -> list[str]:
        contact_id = _first(contact_ids(raw))
        contact = self._fresh(self._contacts, contact_id) if contact_id else None
        found = _first(company_ids(contact)) if contact else None
        return [found] if found else []

    async def _contact(self, contact_id: str) -> None:
        if self._refusal("contacts"):
            self._contacts[contact_id] = (time.monotonic(), None)
            return
        try:
            body = await self.api.json("GET", f"/contacts/{contact_id}")
        except AuthError as error:
            if error.status != 403:
                raise  # the token itself was rejected: nothing else will work either
            self._refuse("contacts", error)
            body = None
        except NotFoundError:
            body = None
        except ConnectorError as error:
            self._failed[contact_id] = f"the contact could not be read ({error.message})"
            return
        self._contacts[contact_id] = (time.monotonic(), body if isinstance(body, Mapping) else None)

    async def _company(self, company_id: str) -> None:
        if self._refusal("companies"):
            self._companies[company_id] = (time.monotonic(), None)
            return
        try:
            body = await self.api.json("GET", f"/companies/{company_id}")
        except AuthError as error:
            if error.status != 403:
                raise
            self._refuse("companies", error)
            body = None
        except NotFoundError:
            body = None
        except ConnectorError as error:
            self._failed[company_id] = f"the company could not be read ({error.message})"
            return
        company = company_of(body, self.options.plan_attribute, self.options.lifecycle_attribute) \
            if isinstance(body, Mapping) else None
        self._companies[company_id] = (time.monotonic(), company)

    # -- cache ---------------------------------------------------------------------------------
    def _refuse(self, what: str, error: AuthError) -> None:
        self._refused[what] = (time.monotonic(), refused_note(what, error))

    def _refusal(self, what: str) -> str:
        found = self._refused.get(what)
        if found is None or time.monotonic() - found[0] > CACHE_SECONDS:
            return ""
        return found[1]

    @staticmethod
    def _cached(cache: Mapping[str, tuple[float, Any]], key: str) -> bool:
        found = cache.get(key)
        return found is not None and time.monotonic() - found[0] <= CACHE_SECONDS

    def _fresh(self, cache: Mapping[str, tuple[float, T]], key: str) -> T | None:
        return cache[key][1] if self._cached(cache, key) else None


def _first(values: list[str]) -> str | None:
    return values[0] if values else None
