"""Zendesk Support as frontline's helpdesk: list new and open tickets, write the decision back.

**Listing: the cursor-based incremental ticket export** (``GET /api/v2/incremental/tickets/cursor``),
chosen over search (``/api/v2/search``) and search export (``/api/v2/search/export``) because the
rate limits and the guarantees favour it for a poller that must never skip a ticket:

- *Requests per ticket.* The export allows only 10 requests a minute, but each returns up to 1,000
  tickets **with their requesters and organizations sideloaded** (``include=users,organizations``),
  so plan, MRR, name and email cost no extra call, and the first comment is already the ticket's
  ``description``. The account's own SLA policies come along too (``include=slas``: each
  ticket's ``slas.policy_metrics[].breach_at``), and triage uses their due times instead of
  computing its own. Search answers 100 per page; search export up to 1,000 but sideloads nothing, so
  customer context would cost one user and one organization request per ticket against the
  account-wide budget (200–2,500 a minute depending on the plan).
- *A cursor that lasts.* The export's ``after_cursor`` stays valid between runs and resumes exactly
  after the last change read; a poll at the end of the stream gets ``end_of_stream: true`` and a
  cursor to resume from later. Search export cursors expire after an hour and its results are
  ordered by creation time only, so a ticket updated since the last run could be missed; plain
  search stops at 1,000 results, pages by offset (duplicates and gaps) and reads an index that
  lags behind writes by minutes, so a saved ``updated>…`` position can skip tickets.
- *Order.* The export is ordered by each ticket's latest change, oldest first, which is the order
  triage wants.

The price is that the stream carries every change, not only new and open tickets: solved, closed
and pending tickets (and deleted ones, dropped at the source with ``exclude_deleted``) are
filtered here by ``zendesk.statuses``, and a page with nothing wanted moves the cursor on without
being returned. Tickets frontline itself updated come back in the stream; the flow skips them as
handled. Zendesk allows the export to admins only, which ``diagnose`` checks. The very first run
reads the account's history once (from ``start_time=0``) so no ticket that is still open is missed.

**Write-back** is one ``PUT /api/v2/tickets/{id}`` per ticket: ``additional_tags`` (added, never
replacing the ticket's tags), ``priority``, the configured ``custom_fields`` and the private note
as a comment with ``public: false``. A backlog (``zendesk.bulk_threshold`` updates or more in one
call) goes through ``PUT /api/v2/tickets/update_many`` in jobs of 100 tickets, each ticket with
its own changes, and the job status is followed to completion so one failed ticket fails alone.

**Doing it once.** Writes are never retried blindly: a 429 or 409 (nothing applied) is retried, but
after a timeout or 5xx the ticket's comments are first searched for the note's marker, so a write
that landed is not written twice. The same search (``find_marker``) reconciles a crash between
the write and the ledger, and a bulk job that failed to start or to finish.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontline.connectors.zendesk.package import ZENDESK

if TYPE_CHECKING:
    from frontline.connectors.zendesk.helpdesk import ZendeskHelpdesk

__all__ = ["ZENDESK", "ZendeskHelpdesk"]


def __getattr__(name: str) -> Any:
    """``ZendeskHelpdesk``, imported on first use: importing the package (its settings, limits) stays cheap."""
    if name == "ZendeskHelpdesk":
        from frontline.connectors.zendesk.helpdesk import ZendeskHelpdesk

        return ZendeskHelpdesk
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
