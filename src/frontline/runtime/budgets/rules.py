"""Matching requests to buckets: a vendor's :class:`Rule` list becomes its :class:`RequestBudget`.

Each rule matches requests by host, method and path pattern (optionally one bucket per key, such as
a ticket or a channel). A :class:`RequestBudget` implements the adapters'
:class:`~frontline.connectors.http.Budget` protocol:

- ``acquire(request)`` waits until every matching bucket has a token (narrowest first, the
  account-wide one last, so a token is never held while waiting for another);
- ``penalise(retry_after)`` after a 429 pauses the buckets the failed request matched, so every
  coroutine (and, shared, every process) using them waits instead of meeting its own 429.

The rules themselves, with their sources, come from each connector package (its ``limits`` module).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from frontline.runtime.budgets.buckets import MAX_PAUSE, Bucket, Limit

Key = Callable[[httpx.Request, "re.Match[str]"], str | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """Which requests a limit applies to: host, method, path pattern; optionally one bucket per key."""

    limit: Limit
    method: str = ""  # "" any
    path: re.Pattern[str] = field(default_factory=lambda: re.compile(r".*"))
    host: str = ""  # "" any
    key: Key | None = None
    shared: bool = True  # across processes, when the book shares budgets through the store
    cost: float = 1.0

    def match(self, request: httpx.Request) -> re.Match[str] | None:
        """The path match when this rule applies to ``request``."""
        if self.method and request.method != self.method:
            return None
        if self.host and request.url.host != self.host:
            return None
        return self.path.fullmatch(request.url.path)


def rule(limit: Limit, method: str = "", path: str = r".*", *, host: str = "", key: Key | None = None,
         shared: bool = True, cost: float = 1.0) -> Rule:
    """A :class:`Rule` with its path pattern compiled."""
    return Rule(limit, method, re.compile(path), host, key, shared, cost)


class BucketSource(Protocol):
    """Hands out buckets by name (a :class:`BudgetBook`)."""

    def bucket(self, name: str, limit: Limit, *, shared: bool = True) -> Bucket:
        """The bucket called ``name`` for ``limit``, created on first use."""

    def buckets(self, prefix: str = "") -> dict[str, Bucket]:
        """The buckets created so far whose names start with ``prefix``."""


_MATCHED: ContextVar[tuple[object, tuple[Bucket, ...]] | None] = ContextVar("frontline_budget_matched",
                                                                            default=None)


class RequestBudget:
    """One vendor's budget: its rules, and the buckets they lead to (the adapters' Budget protocol)."""

    def __init__(self, service: str, prefix: str, rules: Sequence[Rule], source: BucketSource) -> None:
        self.service = service
        self.prefix = prefix
        self.rules = tuple(rules)
        self._source = source

    def buckets_for(self, request: httpx.Request) -> list[tuple[Bucket, float]]:
        """The buckets ``request`` draws on with its cost, in rule order (narrowest first)."""
        found: list[tuple[Bucket, float]] = []
        for item in self.rules:
            match = item.match(request)
            if match is None:
                continue
            name = f"{self.prefix}:{item.limit.name}"
            if item.key is not None:
                key = item.key(request, match)
                if key is None:
                    continue
                name = f"{name}:{key}"
            found.append((self._source.bucket(name, item.limit, shared=item.shared), item.cost))
        return found

    async def acquire(self, request: httpx.Request) -> None:
        """Wait until ``request`` fits every limit it falls under."""
        matched = self.buckets_for(request)
        _MATCHED.set((self, tuple(bucket for bucket, _ in matched)))
        for bucket, cost in matched:
            await bucket.take(cost)

    def penalise(self, retry_after: float) -> None:
        """A 429: pause the buckets the last request of this task matched (all of them if unknown)."""
        matched = _MATCHED.get()
        buckets: Iterable[Bucket] = (matched[1] if matched is not None and matched[0] is self
                                     else self._source.buckets(self.prefix + ":").values())
        for bucket in buckets:
            bucket.penalise(min(retry_after, MAX_PAUSE))

    def debit(self, limit_name: str, cost: float) -> None:
        """Charge ``cost`` more to the named limit's bucket (e.g. a GraphQL complexity learnt afterwards)."""
        name = f"{self.prefix}:{limit_name}"
        for item in self.rules:
            if item.limit.name == limit_name:
                self._source.bucket(name, item.limit, shared=item.shared).debit(cost)
                return
