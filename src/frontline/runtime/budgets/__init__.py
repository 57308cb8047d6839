"""Rate limits as budgets, not sleeps: one token bucket per documented vendor limit.

A vendor limit (:class:`Limit`: so many requests per period, and whether the vendor counts them in
windows or as an average with bursts) becomes a token bucket (:mod:`.buckets`, local or shared
through the state store). A connector package's :class:`Rule` list matches requests to its buckets
and makes one :class:`RequestBudget` per account (:mod:`.rules`), which adapters consult before every
request. The :class:`BudgetBook` (:mod:`.book`) holds every budget and bucket of one process.

Nothing here knows a vendor: each connector package brings its documented limits, with their
sources (``frontline/connectors/VENDOR/limits.py``), and asks the book for its budget
(:meth:`BudgetBook.for_connector`).
"""

from __future__ import annotations

from frontline.runtime.budgets.book import OFF, BudgetBook, Limited, budgets_wanted
from frontline.runtime.budgets.buckets import (
    AHEAD_SECONDS,
    BATCH_SECONDS,
    MAX_BATCH,
    MAX_BUCKETS,
    MAX_PAUSE,
    WINDOW_BURST,
    WINDOW_MARGIN,
    Bucket,
    BucketStats,
    Clock,
    Limit,
    SharedBucket,
    Sleep,
    TimeSource,
    TokenBucket,
)
from frontline.runtime.budgets.rules import BucketSource, Key, RequestBudget, Rule, rule

__all__ = [
    "AHEAD_SECONDS", "BATCH_SECONDS", "MAX_BATCH", "MAX_BUCKETS", "MAX_PAUSE", "OFF", "WINDOW_BURST",
    "WINDOW_MARGIN", "Bucket", "BucketSource", "BucketStats", "BudgetBook", "Clock", "Key", "Limit", "Limited",
    "RequestBudget", "Rule", "SharedBucket", "Sleep", "TimeSource", "TokenBucket", "budgets_wanted", "rule",
]
