"""The vendors' documented rate limits, and which requests each applies to.

Every number is a default of a setting (``[zendesk]``, ``[notion]``, ``[slack]``, ``[intercom]``,
``[linear]`` in ``frontline.toml``), so an account on another plan changes it there. Sources,
checked 2026-12:

**Zendesk Support** (developer.zendesk.com/api-reference/introduction/rate-limits/; the Update
Ticket figures also in support.zendesk.com article 8638126078234; the export figure in
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

**Notion** (developers.notion.com/reference/request-limits): "an average of three requests per
second" per integration, "some bursts beyond the average rate are allowed" (``notion.requests_per_second``).
A bucket refilling at 3/s with a one-second burst.

**Slack** (docs.slack.dev/apis/web-api/rate-limits and each method's page): ``chat.postMessage`` is
special-tier, "generally allows posting one message per second per channel" with short bursts
(``slack.channel_interval_seconds``, one bucket per channel); the other methods used are tiered per
method per workspace: ``conversations.list`` Tier 2 (20+ per minute), ``conversations.history`` and
``conversations.info`` Tier 3 (50+ per minute; ``conversations.history`` is 1 per minute for
commercially distributed apps outside the Marketplace since 2025-05-29:
``slack.history_per_minute``), ``auth.test`` special (treated as Tier 4, 100+ per minute).

**Intercom** (developers.intercom.com/docs/references/rest-api/errors/rate-limiting): 10,000 API
calls per minute per app (25,000 per workspace for private apps), "evenly distributed into 10
second windows": about 1,666 per 10 seconds (``intercom.requests_per_minute``).

**Linear** (linear.app/developers/rate-limiting): leaky buckets "refilled with a constant rate of
LIMIT_AMOUNT / LIMIT_PERIOD"; an API key may make 5,000 requests and spend 250,000 complexity points
per hour (``linear.requests_per_hour``, ``linear.complexity_per_hour``). Older copies of that page
say 1,500 or 2,500 requests per hour: set the value the ``X-RateLimit-Requests-Limit`` header
reports. A query's complexity is only known from its answer (``X-Complexity``), so it is charged
after the answer: later operations wait for the debt.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx

from frontline.runtime.budgets import Limit, Rule, rule

if TYPE_CHECKING:
    from frontline.config.vendors import (
        IntercomSettings,
        LinearSettings,
        NotionSettings,
        SlackSettings,
        ZendeskSettings,
    )

ZENDESK = "developer.zendesk.com/api-reference/introduction/rate-limits"
NOTION = "developers.notion.com/reference/request-limits"
SLACK = "docs.slack.dev/apis/web-api/rate-limits"
INTERCOM = "developers.intercom.com/docs/references/rest-api/errors/rate-limiting"
LINEAR = "linear.app/developers/rate-limiting"
COMPLEXITY = "complexity"


def _ticket(request: httpx.Request, match: re.Match[str]) -> str | None:
    return match.group(1)


def _channel(request: httpx.Request, match: re.Match[str]) -> str | None:
    channel = request.url.params.get("channel")
    return channel.strip().lstrip("#").lower() if channel else None


def zendesk_rules(options: ZendeskSettings, host: str) -> list[Rule]:
    """Per ticket, Update Ticket, incremental export, then the account (narrowest first)."""
    prefix = httpx.URL(options.base_url).path.rstrip("/") if options.base_url else ""
    path = re.escape(prefix)
    per_ticket = options.ticket_updates_per_10_minutes  # a third may come at once: a retry need not wait
    return [
        # Per user per ticket: only this process writes as this user to a given ticket at a time.
        rule(Limit("ticket-updates", per_ticket, 600.0, burst=max(1, per_ticket // 3), source=ZENDESK),
             "PUT", path + r"/api/v2/tickets/(\d+)(?:\.json)?", host=host, key=_ticket, shared=False),
        rule(Limit("ticket-update", options.updates_per_minute, 60.0, source=ZENDESK),
             "PUT", path + r"/api/v2/tickets/\d+(?:\.json)?", host=host),
        # Half a window at once: one export request reads up to 1,000 tickets, so bursts (a run reading
        # past pages it already handled) matter more than the sustained rate.
        rule(Limit("export", options.exports_per_minute, 60.0, burst=max(1, options.exports_per_minute // 2),
                   source=ZENDESK),
             "GET", path + r"/api/v2/incremental/.*", host=host),
        rule(Limit("account", options.requests_per_minute, 60.0, source=ZENDESK), host=host),
    ]


def notion_rules(options: NotionSettings, host: str) -> list[Rule]:
    """One integration-wide average rate."""
    rate = options.requests_per_second
    return [rule(Limit("integration", rate, 1.0, kind="bucket", burst=max(1.0, rate), source=NOTION), host=host)]


def slack_rules(options: SlackSettings, host: str) -> list[Rule]:
    """One bucket per channel for posts, then each method's tier."""
    rules: list[Rule] = []
    if options.channel_interval_seconds > 0:
        rules.append(rule(Limit("post", 1.0, options.channel_interval_seconds, kind="bucket", source=SLACK),
                          "POST", r".*/chat\.postMessage", host=host, key=_channel))
    tiers = {"conversations.list": 20, "conversations.history": options.history_per_minute,
             "conversations.info": 50, "auth.test": 100}
    for method, per_minute in tiers.items():
        rules.append(rule(Limit(method, per_minute, 60.0, source=SLACK), "POST", rf".*/{re.escape(method)}",
                          host=host))
    return rules


def intercom_rules(options: IntercomSettings, host: str) -> list[Rule]:
    """The per-app limit in its 10-second windows."""
    per_window = options.requests_per_minute / 6.0
    return [rule(Limit("app", per_window, 10.0, source=INTERCOM), host=host)]


def linear_rules(options: LinearSettings, host: str) -> list[Rule]:
    """Requests, and complexity (charged when the answer says what it cost)."""
    hour = 3600.0
    return [
        rule(Limit(COMPLEXITY, options.complexity_per_hour, hour, kind="bucket", burst=options.complexity_per_hour,
                   source=LINEAR), host=host, shared=False, cost=0.0),
        rule(Limit("requests", options.requests_per_hour, hour, kind="bucket", burst=options.requests_per_hour,
                   source=LINEAR), host=host),
    ]
