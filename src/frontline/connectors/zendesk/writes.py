"""Writing decisions back to Zendesk: one ``PUT`` per ticket, ``update_many`` jobs for a backlog, and the
job statuses followed to the end (why, and how nothing is written twice: see the package docstring)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import stamina

from frontline.connectors.http import VendorAPI
from frontline.connectors.zendesk.api import SERVICE, retry_rate_limited, retry_write
from frontline.connectors.zendesk.payloads import job_outcomes, note_reference, ticket_changes, zendesk_id
from frontline.connectors.zendesk.settings import ZendeskSettings
from frontline.errors import AuthError, ConnectorError, NotFoundError, UnavailableError
from frontline.model import WriteBack
from frontline.ports import WriteResult

JOB_MAX = 100  # tickets per update_many job
# update_many jobs of one write-back in flight at once (Zendesk queues or runs at most 30 per account).
JOBS_IN_FLIGHT = 4
WRITE_ATTEMPTS = 5
JOB_POLLS = 30
JOB_TIMEOUT = 300.0
PENDING = ("queued", "working")

FindMarker = Callable[[str, str], Awaitable[str | None]]


class _JobPending(Exception):
    """A bulk job is still queued or working (polled again with backoff)."""


class TicketWriter:
    """Tags, priority, fields and a private note on each ticket: singly, or in update_many jobs for a backlog."""

    def __init__(self, api: VendorAPI, write_api: VendorAPI, options: ZendeskSettings, *, find_marker: FindMarker,
                 concurrency: int, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]) -> None:
        self.api = api
        # Writes are not idempotent (each adds a note): this one never retries on its own.
        self._write_api = write_api
        self.options = options
        self._find_marker = find_marker  # checks whether an ambiguous write landed before it is retried
        self._slots = asyncio.Semaphore(concurrency)
        self._clock = clock  # the budgets' time: bulk-job polls wait the way the budgets do
        self._sleep = sleep
        self._jobs_settled = False
        self._settling: asyncio.Lock | None = None

    async def settle_jobs(self) -> None:
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
        async for attempt in stamina.retry_context(on=retry_write, attempts=WRITE_ATTEMPTS, timeout=JOB_TIMEOUT):
            with attempt:
                if ambiguous:
                    found = await self._find_marker(update.ticket_id, update.marker)
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
        async for attempt in stamina.retry_context(on=retry_rate_limited, attempts=WRITE_ATTEMPTS,
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
