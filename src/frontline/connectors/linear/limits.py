"""Linear's documented rate limits (linear.app/developers/rate-limiting, checked 2026-12).

Leaky buckets "refilled with a constant rate of LIMIT_AMOUNT / LIMIT_PERIOD"; an API key may make
5,000 requests and spend 250,000 complexity points per hour (``linear.requests_per_hour``,
``linear.complexity_per_hour``). Older copies of that page say 1,500 or 2,500 requests per hour:
set the value the ``X-RateLimit-Requests-Limit`` header reports. A query's complexity is only known
from its answer (``X-Complexity``), so it is charged after the answer: later operations wait for
the debt.
"""

from __future__ import annotations

from frontline.connectors.linear.settings import LinearSettings
from frontline.runtime.budgets import Limit, Rule, rule

SOURCE = "linear.app/developers/rate-limiting"
COMPLEXITY = "complexity"


def linear_rules(options: LinearSettings, host: str) -> list[Rule]:
    """Requests, and complexity (charged when the answer says what it cost)."""
    hour = 3600.0
    return [
        rule(Limit(COMPLEXITY, options.complexity_per_hour, hour, kind="bucket", burst=options.complexity_per_hour,
                   source=SOURCE), host=host, shared=False, cost=0.0),
        rule(Limit("requests", options.requests_per_hour, hour, kind="bucket", burst=options.requests_per_hour,
                   source=SOURCE), host=host),
    ]
