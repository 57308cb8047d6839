"""The ``[zendesk]`` section: which account, which tickets, where plan and MRR live. Secrets never live here."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from frontline.config.base import Strict, http_url

SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class ZendeskSettings(Strict):
    """Zendesk Support: which account, which tickets, where plan and MRR live."""

    subdomain: str = ""
    base_url: str = ""
    statuses: tuple[Literal["new", "open", "pending", "hold"], ...] = ("new", "open")
    # The first run reads tickets changed in the last N days (0: the whole history, slow on big accounts).
    lookback_days: int = Field(default=30, ge=0, le=36_500)
    # organization_fields keys holding the customer's plan and monthly revenue.
    plan_field: str = "plan"
    mrr_field: str = "mrr"
    # Ticket custom fields written back: field id → template ({category}, {severity}).
    custom_fields: dict[int, str] = Field(default_factory=dict)
    # Backlogs of at least this many tickets are written with tickets/update_many (100 per job).
    bulk_threshold: int = Field(default=10, ge=2, le=100)
    # Account-wide request budget per minute; depends on the Zendesk plan (Team 200 … Enterprise Plus 2500).
    requests_per_minute: int = Field(default=400, ge=10, le=10_000)
    # Endpoint limits (frontline.connectors.zendesk.limits): Update Ticket per account (300 with the High
    # Volume add-on), per user per ticket, and the incremental export (30 with the add-on).
    updates_per_minute: int = Field(default=100, ge=1, le=10_000)
    ticket_updates_per_10_minutes: int = Field(default=30, ge=1, le=1_000)
    exports_per_minute: int = Field(default=10, ge=1, le=1_000)

    @field_validator("subdomain")
    @classmethod
    def _subdomain(cls, value: str) -> str:
        value = value.strip().lower().removesuffix(".zendesk.com").removeprefix("https://")
        if value and not SUBDOMAIN.match(value):
            raise ValueError(f"must be the account's subdomain, as in acme for acme.zendesk.com (got {value!r})")
        return value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)

    @property
    def api_root(self) -> str:
        """``https://SUBDOMAIN.zendesk.com`` or the base-URL override; empty when neither is set."""
        if self.base_url:
            return self.base_url
        return f"https://{self.subdomain}.zendesk.com" if self.subdomain else ""
