"""Slack's documented rate limits, and which Web API calls each applies to.

Sources, checked 2026-12 (docs.slack.dev/apis/web-api/rate-limits and each method's page):
``chat.postMessage`` is special-tier, "generally allows posting one message per second per
channel" with short bursts (``slack.channel_interval_seconds``, one bucket per channel); the other
methods used are tiered per method per workspace: ``conversations.list`` Tier 2 (20+ per minute),
``conversations.history``, ``conversations.replies``, ``conversations.info`` and ``chat.update``
Tier 3 (50+ per minute; ``conversations.history`` and ``conversations.replies`` are 1 per minute
for commercially distributed apps outside the Marketplace
since 2025-05-29: ``slack.history_per_minute``), ``auth.test`` special (treated as Tier 4, 100+ per
minute).

Slack's SDK sends over aiohttp, so each call is matched as the request it stands for
(:func:`slack_request`).
"""

from __future__ import annotations

import re

import httpx

from frontline.connectors.slack.settings import SlackSettings
from frontline.runtime.budgets import Limit, Rule, rule

SOURCE = "docs.slack.dev/apis/web-api/rate-limits"


def _channel(request: httpx.Request, match: re.Match[str]) -> str | None:
    channel = request.url.params.get("channel")
    return channel.strip().lstrip("#").lower() if channel else None


def slack_rules(options: SlackSettings, host: str) -> list[Rule]:
    """One bucket per channel for posts, then each method's tier."""
    rules: list[Rule] = []
    if options.channel_interval_seconds > 0:
        rules.append(rule(Limit("post", 1.0, options.channel_interval_seconds, kind="bucket", source=SOURCE),
                          "POST", r".*/chat\.postMessage", host=host, key=_channel))
    tiers = {"conversations.list": 20, "conversations.history": options.history_per_minute,
             "conversations.replies": options.history_per_minute, "conversations.info": 50,
             "chat.update": 50, "auth.test": 100}
    for method, per_minute in tiers.items():
        rules.append(rule(Limit(method, per_minute, 60.0, source=SOURCE), "POST", rf".*/{re.escape(method)}",
                          host=host))
    return rules


def slack_request(method: str, channel: str | None = None, *, base_url: str = "https://slack.com/api/"
                  ) -> httpx.Request:
    """The request a Slack Web API call stands for, for matching (the SDK sends it over aiohttp)."""
    params = {"channel": channel} if channel else None
    return httpx.Request("POST", base_url.rstrip("/") + "/" + method, params=params)
