"""Zendesk Support's documented rate limits, and which requests each applies to.

Every number is a default of a ``[zendesk]`` setting, so an account on another plan changes it
there. Sources, checked 2026-12 (developer.zendesk.com/api-reference/introduction/rate-limits/; the
Update Ticket figures also in support.zendesk.com article 8638126078234; the export figure in
developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/):

- account: Support API requests per minute by plan — Team 200, Growth and Professional 400,
  Enterprise 700, Enterprise Plus or the High Volume API add-on 2,500
  (``zendesk.requests_per_minute``, default 400);
- Update Ticket (``PUT /api/v2/tickets/{id}``): **100 requests per minute per account**
  (300 with the High Volume add-on; ``zendesk.updates_per_minute``), and **30 updates per 10
  minutes per user per ticket** (``zendesk.ticket_updates_per_10_minutes``);
- incremental exports: **10 requests per minute** (30 with the High Volume add-on;
  ``zendesk.exports_per_minute``);
- job limit: at most 30 background jobs (``update_many``) queued or running per account — a
  concurrency cap, not a rate: the adapter keeps at most a few of its own jobs in flight.

Zendesk counts per minute (``ratelimit-reset`` gives the seconds left in the current one): window
buckets.
"""

from __future__ import annotations

import re

import httpx

from frontline.connectors.zendesk.settings import ZendeskSettings
from frontline.runtime.budgets import Limit, Rule, rule

SOURCE = "developer.zendesk.com/api-reference/introduction/rate-limits"


def _ticket(request: httpx.Request, match: re.Match[str]) -> str | None:
    return match.group(1)


def zendesk_rules(options: ZendeskSettings, host: str) -> list[Rule]:
    """Per ticket, Update Ticket, incremental export, then the account (narrowest first)."""
    prefix = httpx.URL(options.base_url).path.rstrip("/") if options.base_url else ""
    path = re.escape(prefix)
    per_ticket = options.ticket_updates_per_10_minutes  # a third may come at once: a retry need not wait
    return [
        # Per user per ticket: only this process writes as this user to a given ticket at a time.
        rule(Limit("ticket-updates", per_ticket, 600.0, burst=max(1, per_ticket // 3), source=SOURCE),
             "PUT", path + r"/api/v2/tickets/(\d+)(?:\.json)?", host=host, key=_ticket, shared=False),
        rule(Limit("ticket-update", options.updates_per_minute, 60.0, source=SOURCE),
             "PUT", path + r"/api/v2/tickets/\d+(?:\.json)?", host=host),
        # Half a window at once: one export request reads up to 1,000 tickets, so bursts (a run reading
        # past pages it already handled) matter more than the sustained rate.
        rule(Limit("export", options.exports_per_minute, 60.0, burst=max(1, options.exports_per_minute // 2),
                   source=SOURCE),
             "GET", path + r"/api/v2/incremental/.*", host=host),
        rule(Limit("account", options.requests_per_minute, 60.0, source=SOURCE), host=host),
    ]
