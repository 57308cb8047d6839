"""Intercom's documented rate limit (developers.intercom.com/docs/references/rest-api/errors/rate-limiting).

10,000 API calls per minute per app (25,000 per workspace for private apps), "evenly distributed
into 10 second windows": about 1,666 per 10 seconds (``intercom.requests_per_minute``). Checked 2026-12.
"""

from __future__ import annotations

from frontline.connectors.intercom.settings import IntercomSettings
from frontline.runtime.budgets import Limit, Rule, rule

SOURCE = "developers.intercom.com/docs/references/rest-api/errors/rate-limiting"


def intercom_rules(options: IntercomSettings, host: str) -> list[Rule]:
    """The per-app limit in its 10-second windows."""
    per_window = options.requests_per_minute / 6.0
    return [rule(Limit("app", per_window, 10.0, source=SOURCE), host=host)]
