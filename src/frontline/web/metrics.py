"""``/metrics`` in the Prometheus text format (the official ``prometheus-client`` library).

Two kinds of figures:

- **read from the state store at scrape time** — items handled, decisions, effects, the inbox —
  so they are right however many ``serve`` or ``worker`` processes share the database;
- **counted in this process** — webhook latency and deliveries, retries, vendor 429s — since
  the process started (Prometheus' ``rate()`` copes with restarts).

Each :class:`~frontline.web.app.WebApp` has its own registry, so two apps in one test never
share a count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client import Counter as PromCounter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from frontline.connectors.http import VendorAPI
from frontline.runtime.retries import RETRIES
from frontline.store.state import StateStore

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SLA_BREACH = "sla_breach_"  # the ledger kind of an SLA breach alert, before its metric (frontline.flows.sla)
PORTS = ("helpdesk", "kb", "chat", "tracker", "conversations", "classifier")


def rate_limits(services: Iterable[Any]) -> Counter[str]:
    """429s answered to the vendor clients held by these services, by vendor."""
    found: Counter[str] = Counter()
    seen: set[int] = set()
    for service in services:
        for port in PORTS:
            connector = getattr(service, port, None)
            if connector is None:
                continue
            for value in [connector, *getattr(connector, "__dict__", {}).values()]:
                if isinstance(value, VendorAPI) and id(value) not in seen:
                    seen.add(id(value))
                    found[value.service] += value.rate_limited
    return found


class StoreCollector(Collector):
    """Figures read when Prometheus scrapes: the store's counts and this process's counters."""

    def __init__(self, store: StateStore, rate_limited: Callable[[], Counter[str]]) -> None:
        self.store = store
        self.rate_limited = rate_limited

    def collect(self) -> Iterator[Metric]:
        """One pass over the store (four GROUP BY queries) and the in-process counters."""
        store = self.store
        handled = GaugeMetricFamily("frontline_items_handled", "Items handled, by flow (from the state store).",
                                    labels=["flow"])
        for flow, count in sorted(store.handled_counts().items()):
            handled.add_metric([flow], count)
        yield handled
        decisions = CounterMetricFamily("frontline_decisions", "Decisions recorded, by flow, category and severity "
                                        "(from the state store).", labels=["flow", "category", "severity"])
        for flow, category, severity, count in sorted(store.decision_counts(), key=_key):
            decisions.add_metric([flow, category or "", severity or ""], count)
        yield decisions
        effects = GaugeMetricFamily("frontline_effects", "Side effects in the ledger, by flow, kind and status "
                                    "(from the state store).", labels=["flow", "kind", "status"])
        ledger = sorted(store.effect_counts())
        for flow, kind, status, count in ledger:
            effects.add_metric([flow, kind, status], count)
        yield effects
        yield _sla_breaches(ledger)
        entries = store.inbox_counts()
        depth = GaugeMetricFamily("frontline_inbox_depth", "Inbox entries not done: waiting, or dead after the "
                                  "last attempt (from the state store).", labels=["state"])
        for state in ("waiting", "dead"):
            depth.add_metric([state], sum(count for _, _, st, count in entries if st == state))
        yield depth
        detail = GaugeMetricFamily("frontline_inbox_entries", "Inbox entries not done, by source, flow and state "
                                   "(from the state store).", labels=["source", "flow", "state"])
        for source, flow, state, count in sorted(entries):
            detail.add_metric([source, flow, state], count)
        yield detail
        retries = CounterMetricFamily("frontline_retries", "Retries scheduled by this process, by the error "
                                      "that caused them.", labels=["cause"])
        for cause, count in sorted(RETRIES.items()):
            retries.add_metric([cause], count)
        yield retries
        limited = CounterMetricFamily("frontline_rate_limited", "429 answers from vendors to this process, "
                                      "by vendor.", labels=["service"])
        for service, count in sorted(self.rate_limited().items()):
            limited.add_metric([service], count)
        yield limited


def _sla_breaches(ledger: Iterable[tuple[str, str, str, int]]) -> Metric:
    """Breaches the sla check found: one ledger entry per (ticket, metric, due time), alerted or not."""
    found: Counter[tuple[str, str]] = Counter()
    for flow, kind, _, count in ledger:
        if kind.startswith(SLA_BREACH):
            found[flow, kind[len(SLA_BREACH):]] += count
    breaches = CounterMetricFamily("frontline_sla_breaches", "SLA due times passed unmet, by flow and metric "
                                   "(first_response, resolution; from the state store).", labels=["flow", "metric"])
    for (flow, metric), count in sorted(found.items()):
        breaches.add_metric([flow, metric], count)
    return breaches


def _key(row: tuple[str, str | None, str | None, int]) -> tuple[str, str, str]:
    return row[0], row[1] or "", row[2] or ""


class WebMetrics:
    """The app's registry: request latency and deliveries counted here, the rest collected at scrape."""

    def __init__(self, store: StateStore, rate_limited: Callable[[], Counter[str]]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.latency = Histogram("frontline_webhook_request_duration_seconds",
                                 "Time from request to answer, by route and status.", ["route", "status"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.deliveries = PromCounter("frontline_webhook_deliveries", "Webhook deliveries by source and outcome "
                                      "(recorded, duplicate, ignored, refused, invalid, unconfigured, record_failed: "
                                      "answered 500 for the sender to retry).",
                                      ["source", "outcome"], registry=self.registry)
        self.poll_failures = PromCounter("frontline_poll_failures", "Items a poll cycle did not handle, by flow: "
                                         "failed, or listed by the source but unreadable (retried next cycle).",
                                         ["flow"], registry=self.registry)
        self.registry.register(StoreCollector(store, rate_limited))

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.latency.labels(route, str(status)).observe(seconds)

    def delivery(self, source: str, outcome: str, count: int = 1) -> None:
        """Count a webhook delivery's outcome."""
        self.deliveries.labels(source, outcome).inc(count)

    def poll_failed(self, flow: str, count: int) -> None:
        """Count the items one poll cycle of ``flow`` did not handle."""
        if count:
            self.poll_failures.labels(flow).inc(count)

    def render(self) -> bytes:
        """The text exposition (queries the store: call it off the event loop)."""
        return generate_latest(self.registry)
