"""Fakes that enforce their vendors' documented rate limits, on an injectable (and scalable) clock.

    fake.limiter = Limiter(zendesk_limits(), clock=clock)   # over a limit: the vendor's 429 + Retry-After

A :class:`Limiter` holds :class:`LimitRule` s, each one documented limit as the vendor counts it:

- ``window``: at most ``amount`` requests in any ``per`` seconds (a sliding window: stricter than
  the fixed minute Zendesk and the 10-second windows Intercom actually count in);
- ``bucket``: an average of ``amount`` per ``per`` seconds with bursts up to ``burst`` (Notion's
  "average of three requests per second", Slack's one post per second per channel).

A request over any rule is refused (and not counted) with the wait until it would fit as
Retry-After. With ``scale`` > 1 the limiter's clock runs that much faster than real time (a minute
lasting a second) and Retry-After is given in real seconds, as a vendor would. Everything admitted
is counted per rule and key, which is what :meth:`Limiter.lower_bound` turns into the least time
the admitted traffic needs under these limits.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import httpx

from tests.fakes.slack import arguments

Clock = Callable[[], float]


@dataclass
class LimitRule:
    """One documented limit, as the vendor enforces it."""

    name: str
    amount: float
    per: float
    on: str = ""  # "METHOD path-regex" (searched in the path); "" every request
    key: Callable[[httpx.Request], str | None] | None = None
    kind: Literal["window", "bucket"] = "window"
    burst: float = 1.0  # bucket: how many may come at once
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False)

    def applies(self, request: httpx.Request) -> str | None:
        """The key this request counts under, or None when the rule does not apply."""
        if self.on:
            method, _, path = self.on.partition(" ")
            if self._pattern is None:
                self._pattern = re.compile(path)
            if (method and request.method != method) or not self._pattern.search(request.url.path):
                return None
        if self.key is None:
            return ""
        return self.key(request)

    def least_seconds(self, admitted: int) -> float:
        """The least time ``admitted`` requests need under this rule alone (its burst comes free)."""
        if self.kind == "window":
            return max(0.0, admitted - self.amount) * self.per / self.amount
        return max(0.0, admitted - self.burst) * self.per / self.amount


@dataclass
class Counted:
    """Admissions under one rule and key."""

    admitted: int = 0
    refused: int = 0
    log: deque[float] = field(default_factory=deque)  # window: admission times in the last window
    tat: float = -math.inf  # bucket: theoretical arrival time


class Limiter:
    """Admits or refuses requests by their rules; counts everything."""

    def __init__(self, rules: list[LimitRule], *, clock: Clock = time.monotonic, scale: float = 1.0) -> None:
        self.rules = rules
        self.scale = scale
        self._clock = clock
        self.counts: dict[tuple[str, str], Counted] = defaultdict(Counted)
        self.refused = 0
        self._lock = threading.Lock()

    @classmethod
    def scaled(cls, rules: list[LimitRule], scale: float) -> Limiter:
        """Rules counted on a clock running ``scale`` times faster than real time."""
        origin = time.monotonic()
        return cls(rules, clock=lambda: origin + (time.monotonic() - origin) * scale, scale=scale)

    def check(self, request: httpx.Request) -> float | None:
        """None when admitted (and counted), else the vendor seconds until it would be admitted."""
        with self._lock:
            now = self._clock()
            matched = []
            wait = 0.0
            for item in self.rules:
                key = item.applies(request)
                if key is None:
                    continue
                counted = self.counts[(item.name, key)]
                matched.append((item, counted))
                wait = max(wait, self._wait(item, counted, now))
            if wait > 0:
                self.refused += 1
                for _, counted in matched:
                    counted.refused += 1
                return wait
            for item, counted in matched:
                counted.admitted += 1
                if item.kind == "window":
                    counted.log.append(now)
                else:
                    counted.tat = max(counted.tat, now) + item.per / item.amount
            return None

    @staticmethod
    def _wait(item: LimitRule, counted: Counted, now: float) -> float:
        if item.kind == "window":
            while counted.log and counted.log[0] <= now - item.per:
                counted.log.popleft()
            return counted.log[0] + item.per - now if len(counted.log) >= item.amount else 0.0
        interval = item.per / item.amount
        tolerance = (item.burst - 1.0) * interval
        return max(0.0, counted.tat - tolerance - now)

    def retry_after(self, wait: float) -> str:
        """Retry-After in real seconds (fractional when time is scaled; whole seconds otherwise)."""
        real = wait / self.scale
        return f"{real:.3f}" if self.scale != 1.0 else str(max(1, math.ceil(real)))

    def admitted(self, rule_name: str) -> int:
        """Requests admitted under a rule, all keys together."""
        return sum(c.admitted for (name, _), c in self.counts.items() if name == rule_name)

    def bounds(self) -> list[tuple[str, int, float]]:
        """(rule and key, requests admitted, the least vendor seconds they need), busiest first."""
        by_name = {r.name: r for r in self.rules}
        found = [(f"{name}{' ' + key if key else ''}", counted.admitted, by_name[name].least_seconds(counted.admitted))
                 for (name, key), counted in self.counts.items()]
        return sorted(found, key=lambda b: -b[2])

    def lower_bound(self) -> tuple[float, str]:
        """The least vendor time the admitted traffic needs, and the rule and key that need it."""
        found = self.bounds()
        if not found or found[0][2] <= 0:
            return 0.0, "none"
        where, admitted, seconds = found[0]
        return seconds, f"{where} ({admitted} requests)"


# -- the vendors, as documented (numbers and sources: src/frontline/connectors/VENDOR/limits.py) --------
def _ticket(request: httpx.Request) -> str | None:
    found = re.search(r"/api/v2/tickets/(\d+)(?:\.json)?$", request.url.path)
    return found.group(1) if found else None


def _channel(request: httpx.Request) -> str | None:
    channel = arguments(request).get("channel")
    return str(channel).strip().lstrip("#").lower() if channel else None


def zendesk_limits(requests_per_minute: int = 400) -> list[LimitRule]:
    """Account per plan, Update Ticket per account and per ticket, incremental export."""
    return [
        LimitRule("account", requests_per_minute, 60.0),
        LimitRule("ticket-update", 100, 60.0, on=r"PUT /api/v2/tickets/\d+(\.json)?$"),
        LimitRule("ticket-updates", 30, 600.0, on=r"PUT /api/v2/tickets/\d+(\.json)?$", key=_ticket),
        LimitRule("export", 10, 60.0, on="GET /api/v2/incremental/"),
    ]


def notion_limits() -> list[LimitRule]:
    """Three requests a second on average; some bursts allowed (two seconds' worth here)."""
    return [LimitRule("integration", 3, 1.0, kind="bucket", burst=6)]


def slack_limits() -> list[LimitRule]:
    """One post a second per channel with short bursts, and the tiers of the other methods used."""
    return [
        LimitRule("post", 1, 1.0, on=r"POST /api/chat\.postMessage", key=_channel, kind="bucket", burst=2),
        LimitRule("conversations.list", 20, 60.0, on=r" /api/conversations\.list"),
        LimitRule("conversations.history", 50, 60.0, on=r" /api/conversations\.history"),
        LimitRule("conversations.info", 50, 60.0, on=r" /api/conversations\.info"),
        LimitRule("auth.test", 100, 60.0, on=r" /api/auth\.test"),
    ]
