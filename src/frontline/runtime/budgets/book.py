"""The budget book: every vendor budget of one process, shared through the store when given one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from frontline.runtime.budgets.buckets import (
    MAX_BUCKETS,
    Bucket,
    Clock,
    Limit,
    SharedBucket,
    Sleep,
    TimeSource,
    TokenBucket,
)
from frontline.runtime.budgets.rules import RequestBudget, Rule

if TYPE_CHECKING:
    from frontline.store.budgets import BudgetTable


class Limited(Protocol):
    """What the book needs of a connector package: its name, and the rules of one account's limits.

    Connector packages (:class:`frontline.connectors.package.ConnectorPackage`) implement it; the
    book never imports vendor code.
    """

    @property
    def name(self) -> str:
        """The budget's prefix (the package's name)."""
        ...

    @property
    def service(self) -> str:
        """How messages name the vendor."""
        ...

    def budget_host(self, options: Any) -> str:
        """The host whose requests the rules apply to, for these settings."""
        ...

    def budget_rules(self, options: Any, host: str) -> Sequence[Rule]:
        """The documented limits of one account as rules, narrowest first."""
        ...

class BudgetBook:
    """Every vendor budget of one process, built from settings; shared through the store when given one."""

    def __init__(self, *, table: BudgetTable | None = None, time: TimeSource | None = None,
                 offload: bool = True) -> None:
        self.time = time or TimeSource()
        self._table = table
        self._offload = offload
        self._buckets: dict[str, Bucket] = {}
        self._budgets: dict[str, RequestBudget] = {}

    @property
    def shared(self) -> bool:
        """Whether buckets live in the state store."""
        return self._table is not None

    @property
    def clock(self) -> Clock:
        """The budgets' monotonic clock."""
        return self.time.clock

    @property
    def sleep(self) -> Sleep:
        """How the budgets wait (adapters wait the same way, e.g. between bulk-job polls)."""
        return self.time.sleep

    def bucket(self, name: str, limit: Limit, *, shared: bool = True) -> Bucket:
        """The bucket called ``name``, created on first use (in the store when shared)."""
        found = self._buckets.get(name)
        if found is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._forget_idle()
            if self._table is not None and shared:
                found = SharedBucket(name, limit.rate, limit.capacity, self._table, time=self.time,
                                     offload=self._offload)
            else:
                found = TokenBucket.of(name, limit, time=self.time)
            self._buckets[name] = found
        return found

    def buckets(self, prefix: str = "") -> dict[str, Bucket]:
        """The buckets created so far whose names start with ``prefix``."""
        return {name: bucket for name, bucket in self._buckets.items() if name.startswith(prefix)}

    def _forget_idle(self) -> None:
        """Drop local buckets that are full and unpaused: a new one would be the same."""
        for name, bucket in list(self._buckets.items()):
            if isinstance(bucket, TokenBucket) and bucket.available() >= bucket.capacity:
                del self._buckets[name]

    def budget(self, service: str, prefix: str, rules: Sequence[Rule]) -> RequestBudget:
        """One vendor's budget for one account (``prefix`` names it), created once."""
        found = self._budgets.get(prefix)
        if found is None:
            found = self._budgets[prefix] = RequestBudget(service, prefix, rules, self)
        return found

    def for_connector(self, connector: Limited, options: Any) -> RequestBudget:
        """A connector package's budget for the account ``options`` (its settings section) points at.

        The package says which host its rules watch and what they are; the book names the budget
        ``NAME:HOST``, so two accounts of one vendor have budgets of their own.
        """
        host = connector.budget_host(options)
        return self.budget(connector.service, f"{connector.name}:{host}", connector.budget_rules(options, host))

    def budgets(self) -> dict[str, RequestBudget]:
        """The vendor budgets opened so far, by ``NAME:HOST``."""
        return dict(self._budgets)

OFF = ("0", "off", "false", "no")


def budgets_wanted(settings_budgets: bool, environ: Mapping[str, str]) -> bool:
    """Budgets are on unless ``[runner] budgets = false`` or the process runs with FRONTLINE_BUDGETS=off."""
    return settings_budgets and environ.get("FRONTLINE_BUDGETS", "on").strip().lower() not in OFF
