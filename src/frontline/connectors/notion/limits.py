"""Notion's documented rate limit (developers.notion.com/reference/request-limits, checked 2026-12).

"An average of three requests per second" per integration, "some bursts beyond the average rate
are allowed" (``notion.requests_per_second``): a bucket refilling at 3/s with a one-second burst.
"""

from __future__ import annotations

from frontline.connectors.notion.settings import NotionSettings
from frontline.runtime.budgets import Limit, Rule, rule

SOURCE = "developers.notion.com/reference/request-limits"


def notion_rules(options: NotionSettings, host: str) -> list[Rule]:
    """One integration-wide average rate."""
    rate = options.requests_per_second
    return [rule(Limit("integration", rate, 1.0, kind="bucket", burst=max(1.0, rate), source=SOURCE), host=host)]
