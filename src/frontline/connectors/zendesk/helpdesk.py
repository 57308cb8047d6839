"""The Zendesk helpdesk adapter (why these endpoints: see the package docstring)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import stamina

from frontline.config import Settings
from frontline.connectors.http import MAX_RETRY_AFTER, Budget, VendorAPI
from frontline.connectors.zendesk import ZENDESK
from frontline.connectors.zendesk.payloads import (
    Sideloads,
    TicketReader,
    carries_marker,
    comment_reference,
    job_outcomes,
    listed_label,
    note_reference,
    sort_listed,
    ticket_changes,
    validation_details,
    zendesk_id,
)
from frontline.connectors.zendesk.settings import ZendeskSettings
from frontline.credentials import Credentials
from frontline.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    FrontlineError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
)
from frontline.model import Ticket, WriteBack
from frontline.ports import Check, Page, WriteResult

if TYPE_CHECKING:
    from frontline.runtime.budgets import BudgetBook

SERVICE = "Zendesk"
EXPORT = "/api/v2/incremental/tickets/cursor"
PAGE_MAX = 1000  # the export's largest page
JOB_MAX = 100  # tickets per update_many job
# update_many jobs of one write-back in flight at once (Zendesk queues or runs at most 30 per account).
JOBS_IN_FLIGHT = 4
# Pages with no wanted ticket read in one call before handing back (the export allows 10 a minute).
SKIP_PAGES = 10
WRITE_ATTEMPTS = 5
JOB_POLLS = 30
JOB_TIMEOUT = 300.0
PENDING = ("queued", "working")
TOKEN_HELP = ("Create an API token in Admin Center → Apps and integrations → Zendesk API and set "
              "ZENDESK_EMAIL and ZENDESK_API_TOKEN (or renew ZENDESK_OAUTH_TOKEN), then run `frontline doctor`")


class _JobPending(Exception):
    """A bulk job is still queued or working (polled again with backoff)."""


def _retry_rate_limited(error: Exception) -> bool | float:
    """stamina hook: wait out a 429's Retry-After (nothing was applied), give up on anything else."""
    if isinstance(error, RateLimitedError):
        return error.retry_after if error.retry_after <= MAX_RETRY_AFTER else False
    return False


def _retry_write(error: Exception) -> bool | float:
    """stamina hook for writes: 429 and 409 applied nothing; a timeout or 5xx is checked first."""
    if isinstance(error, RateLimitedError):
        return _retry_rate_limited(error)
    if isinstance(error, UnavailableError):
        return True
    return isinstance(error, ConnectorError) and error.status == 409


class ZendeskAPI(VendorAPI):
    """The shared HTTP layer, adding Zendesk's per-field ``details`` to a refused update."""

    def error_for(self, response: httpx.Response, method: str, path: str) -> ConnectorError:
        """As VendorAPI, with the reasons Zendesk gives for a 422 (which field, which value)."""
        error = super().error_for(response, method, path)
        if type(error) is not ConnectorError:
            return error
        try:
            details = validation_details(response.json())
        except ValueError:
            details = ""
        if not details:
            return error
        return ConnectorError(error.service, f"{error.message} ({details})", status=error.status, hint=error.hint)


class ZendeskHelpdesk:
    """Tickets from Zendesk Support; decisions written back as tags, priority, fields and a private note."""

    name = "zendesk"

    def __init__(self, options: ZendeskSettings, *, http: httpx.AsyncClient, credentials: Credentials,
                 concurrency: int = 8, budget: Budget | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.options = options
        self.base_url = options.api_root
        url = httpx.URL(self.base_url)
        self._account = f"{url.host}{url.path.rstrip('/')}"
        self.reader = TicketReader(options.plan_field, options.mrr_field)
        # Extra write-back fields this helpdesk wants, keyed by Zendesk field id; the flow renders
        # them like `writeback.custom_fields` and hands them back in WriteBack.custom_fields.
        self.field_templates: dict[str, str] = {str(k): v for k, v in options.custom_fields.items()}
        self._slots = asyncio.Semaphore(concurrency)
        self._clock = clock  # the budgets' time: bulk-job polls wait the way the budgets do
        self._sleep = sleep

        async def auth(refresh: bool) -> Mapping[str, str]:
            return (await credentials.get("zendesk", refresh=refresh)).headers()

        common: dict[str, Any] = {"auth": auth, "hint": self._hint, "headers": {"Accept": "application/json"},
                                  "budget": budget}
        self.api = ZendeskAPI(SERVICE, http, self.base_url, **common)
        # Writes are not idempotent (each adds a note): this one never retries on its own.
        self._write_api = ZendeskAPI(SERVICE, http, self.base_url, attempts=1, **common)

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

    # -- reading -------------------------------------------------------------------------------
    def _own(self, saved: str | None) -> str | None:
        """The export cursor inside a saved one, or None (start over) when it belongs to another account."""
        if not saved:
            return None
        after, sep, account = saved.rpartition("@")
        if not sep:
            return saved  # a bare Zendesk cursor
        return after if account == self._account and after else None

    def _start_time(self) -> int:
        """Where a first run starts: ``zendesk.lookback_days`` ago (0 days: the beginning)."""
        days = self.options.lookback_days
        return 0 if days == 0 else int(time.time()) - days * 86_400

    async def list_changed(self, cursor: str | None, limit: int) -> Page[Ticket]:
        """New and open tickets changed after ``cursor``, oldest change first.

        The cursor is the export's ``after_cursor`` tagged with the account it belongs to, so a
        saved position is never applied to another account (which would skip its older tickets).
        """
        params: dict[str, Any] = {"per_page": max(1, min(limit, PAGE_MAX)), "include": "users,organizations",
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
        saved = f"{cursor}@{self._account}" if cursor else None
        return Page(items=tickets, cursor=saved, has_more=more, unreadable=unreadable)

    async def get(self, ticket_id: str) -> Ticket:
        """One ticket with its whole thread, requester and organization."""
        number = self._number(ticket_id)
        body = await self.api.json("GET", f"/api/v2/tickets/{number}", params={"include": "users,organizations"})
        raw = body.get("ticket") if isinstance(body, Mapping) else None
        if not isinstance(raw, Mapping) or zendesk_id(raw.get("id")) is None:
            raise UnavailableError(SERVICE, f"answered GET /api/v2/tickets/{number} without a ticket",
                                   hint="Check ZENDESK_BASE_URL: a proxy may be rewriting answers")
        comments = [c async for c in self._comments(number, newest_first=False)]
        return self.reader.ticket(raw, Sideloads.of(body), comments)

    async def _comments(self, number: int, *, newest_first: bool) -> AsyncIterator[Mapping[str, Any]]:
        params: dict[str, Any] = {"page[size]": 100, "sort": "-created_at" if newest_first else "created_at"}
        while True:
            body = await self.api.json("GET", f"/api/v2/tickets/{number}/comments", params=params)
            for comment in body.get("comments") or ():
                yield comment
            meta = body.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                return
            params = {**params, "page[after]": meta["after_cursor"]}

    async def find_marker(self, ticket_id: str, marker: str) -> str | None:
        """The private note carrying ``marker`` on the ticket (newest first), as ``comment:ID``; else None.

        Bulk jobs still queued or working are waited for first (see :meth:`_settle_jobs`).
        """
        await self._settle_jobs()
        async for comment in self._comments(self._number(ticket_id), newest_first=True):
            if carries_marker(comment, marker):
                return comment_reference(comment.get("id"))
        return None

    _jobs_settled = False
    _settling: asyncio.Lock | None = None

    async def _settle_jobs(self) -> None:
        """Once per adapter, before the first marker check: wait for the bulk jobs Zendesk has not run yet.

        A run killed after it submitted an update_many job never saw the job finish, and Zendesk runs
        it later; a marker check made before then misses the note the job is about to add, and the
        note would be written twice. A job still pending after ``JOB_TIMEOUT``, or a listing that
        fails, leaves the check as it was before (look, and write when the note is not there).
        """
        if self._jobs_settled:
            return
        if self._settling is None:
            self._settling = asyncio.Lock()
        async with self._settling:
            if self._jobs_settled:
                return
            try:
                body = await self.api.json("GET", "/api/v2/job_statuses")
                pending = [str(job["id"]) for job in body.get("job_statuses") or ()
                           if isinstance(job, Mapping) and job.get("id") and job.get("status") in PENDING]
                await asyncio.gather(*(self._finished(job_id) for job_id in pending), return_exceptions=True)
            except ConnectorError:
                pass
            self._jobs_settled = True

    def _number(self, ticket_id: str) -> int:
        number = zendesk_id(ticket_id)
        if number is None:
            raise NotFoundError(SERVICE, f"{ticket_id!r} is not a Zendesk ticket id",
                                hint="Zendesk ticket ids are numbers")
        return number

    # -- writing -------------------------------------------------------------------------------
    async def write_back(self, updates: Sequence[WriteBack]) -> list[WriteResult]:
        """One request per ticket, or update_many jobs for a backlog; one result per update, in order."""
        results: list[WriteResult | None] = [None] * len(updates)
        todo: list[tuple[int, int, WriteBack]] = []
        for index, update in enumerate(updates):
            number = zendesk_id(update.ticket_id)
            if number is None:
                results[index] = WriteResult(update.ticket_id, error=NotFoundError(
                    SERVICE, f"{update.ticket_id!r} is not a Zendesk ticket id"))
            else:
                todo.append((index, number, update))
        refused: list[AuthError] = []
        if len(todo) >= self.options.bulk_threshold:
            jobs = asyncio.Semaphore(JOBS_IN_FLIGHT)

            async def one(chunk: Sequence[tuple[int, int, WriteBack]]) -> list[tuple[int, WriteResult]]:
                async with jobs:
                    if refused:  # the token was rejected: the other jobs would be refused too
                        return [(index, WriteResult(update.ticket_id, error=refused[0])) for index, _, update in chunk]
                    done = await self._job(chunk)
                    for _, result in done:
                        if isinstance(result.error, AuthError) and not refused:
                            refused.append(result.error)
                    return done

            chunks = [todo[start:start + JOB_MAX] for start in range(0, len(todo), JOB_MAX)]
            for done in await asyncio.gather(*(one(chunk) for chunk in chunks)):
                for index, result in done:
                    results[index] = result
        else:
            done = await asyncio.gather(*(self._one(index, number, update, refused) for index, number, update in todo))
            for index, result in done:
                results[index] = result
        return [r if r is not None else WriteResult(u.ticket_id, error=ConnectorError(SERVICE, "not written"))
                for r, u in zip(results, updates, strict=True)]

    async def _one(self, index: int, number: int, update: WriteBack, refused: list[AuthError]
                   ) -> tuple[int, WriteResult]:
        async with self._slots:
            if refused:  # the token was rejected for an earlier ticket: do not knock again
                return index, WriteResult(update.ticket_id, error=refused[0])
            try:
                return index, WriteResult(update.ticket_id, remote_ref=await self._put(number, update))
            except AuthError as error:
                refused.append(error)
                return index, WriteResult(update.ticket_id, error=error)
            except ConnectorError as error:
                return index, WriteResult(update.ticket_id, error=error)

    async def _put(self, number: int, update: WriteBack) -> str:
        """Update one ticket; before retrying an ambiguous failure, check whether the note landed."""
        body = {"ticket": ticket_changes(update)}
        ambiguous = False
        async for attempt in stamina.retry_context(on=_retry_write, attempts=WRITE_ATTEMPTS, timeout=JOB_TIMEOUT):
            with attempt:
                if ambiguous:
                    found = await self.find_marker(update.ticket_id, update.marker)
                    if found:
                        return found
                try:
                    answer = await self._write_api.json("PUT", f"/api/v2/tickets/{number}", json=body)
                except UnavailableError:
                    ambiguous = True
                    raise
                return note_reference(answer, number)
        raise AssertionError("unreachable")  # pragma: no cover - stamina re-raises the last error

    async def _job(self, chunk: Sequence[tuple[int, int, WriteBack]]) -> list[tuple[int, WriteResult]]:
        """One update_many job for up to 100 tickets, followed to the end; failures stay per ticket."""
        numbers = [number for _, number, _ in chunk]
        payload = {"tickets": [{"id": number, **ticket_changes(update)} for _, number, update in chunk]}
        try:
            job = await self._submit(payload)
            if job.get("status") in PENDING or not job.get("results"):
                job = await self._finished(str(job["id"]))
        except (ConnectorError, _JobPending, KeyError) as error:
            # Whether or not Zendesk applied it, the flow records a failure and the next run looks for
            # each note's marker before writing again: nothing is lost or doubled.
            failure = error if isinstance(error, ConnectorError) else UnavailableError(
                SERVICE, "the bulk update did not finish in time", hint="The next run checks and retries it")
            return [(index, WriteResult(update.ticket_id, error=failure)) for index, _, update in chunk]
        outcomes = job_outcomes(job, numbers)
        results = []
        for index, number, update in chunk:
            updated, why = outcomes[number]
            if updated:
                results.append((index, WriteResult(update.ticket_id, remote_ref=f"job:{job.get('id')}#{number}")))
            else:
                kind = NotFoundError if "notfound" in why.replace(" ", "").lower() else ConnectorError
                results.append((index, WriteResult(update.ticket_id, error=kind(
                    SERVICE, f"ticket {number} was not updated by bulk job {job.get('id')}: {why}"))))
        return results

    async def _submit(self, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        """Start a job; only a 429 (nothing started) is retried, anything ambiguous is left to the marker check."""
        async for attempt in stamina.retry_context(on=_retry_rate_limited, attempts=WRITE_ATTEMPTS,
                                                   timeout=JOB_TIMEOUT):
            with attempt:
                body = await self._write_api.json("PUT", "/api/v2/tickets/update_many", json=payload)
                return dict(body.get("job_status") or {})
        raise AssertionError("unreachable")  # pragma: no cover

    async def _finished(self, job_id: str) -> Mapping[str, Any]:
        """Poll a job with a growing pause until it is completed or failed (a plain loop: polling is no error)."""
        pause = 1.0
        deadline = self._clock() + JOB_TIMEOUT
        for _ in range(JOB_POLLS):
            body = await self.api.json("GET", f"/api/v2/job_statuses/{job_id}")
            job = dict(body.get("job_status") or {})
            if job.get("status") not in PENDING:
                return job
            if self._clock() + pause > deadline:
                break
            await self._sleep(0 if stamina.is_testing() else pause)
            pause = min(pause * 2, 10.0)
        raise _JobPending(job_id)

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
