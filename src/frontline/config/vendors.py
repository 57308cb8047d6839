"""Settings of the vendor connectors and of the credentials provider. Secrets never live here."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from frontline.config.base import Strict

SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _base_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if value and not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"must be an http(s) URL such as https://example.com (got {value!r})")
    return value


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
    # Endpoint limits (frontline.runtime.vendor_limits): Update Ticket per account (300 with the High
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
        return _base_url(value)

    @property
    def api_root(self) -> str:
        """``https://SUBDOMAIN.zendesk.com`` or the base-URL override; empty when neither is set."""
        if self.base_url:
            return self.base_url
        return f"https://{self.subdomain}.zendesk.com" if self.subdomain else ""


class NotionSettings(Strict):
    """Notion as the knowledge base: a database of help articles, or the whole workspace."""

    database_id: str = ""
    base_url: str = "https://api.notion.com"
    # The page property searched and shown as the title; empty: the database's title property.
    title_property: str = ""
    # Notion allows an integration "an average of three requests per second".
    requests_per_second: float = Field(default=3.0, gt=0.0, le=1_000.0)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _base_url(value) or "https://api.notion.com"

    @field_validator("database_id")
    @classmethod
    def _database(cls, value: str) -> str:
        value = value.strip()
        # A pasted database URL works too: the id is the last 32 hex digits of its path
        # (the query string's ?v= is the view's id, not the database's).
        found = re.findall(r"[0-9a-fA-F]{32}|[0-9a-fA-F-]{36}", value.split("?", 1)[0].split("#", 1)[0])
        return found[-1] if found else value


class SlackSettings(Strict):
    """Slack as the chat: where the Web API is and how fast one channel may be posted to."""

    base_url: str = "https://slack.com/api/"
    # Slack allows about one message per second per channel.
    channel_interval_seconds: float = Field(default=1.0, ge=0.0, le=60.0)
    # Crash recovery looks this far back in each routed channel, at most this many pages of 200 messages.
    recovery_hours: float = Field(default=72.0, gt=0.0, le=24.0 * 30)
    recovery_pages: int = Field(default=3, ge=1, le=20)
    # conversations.history is Tier 3 (50+ a minute); 1 for commercially distributed apps outside the Marketplace.
    history_per_minute: int = Field(default=50, ge=1, le=1_000)
    # Alerts carry "Correct category" and "Mark resolved" controls; their clicks come back to
    # `frontline serve` at /webhooks/slack (set the app's Interactivity Request URL there first).
    interactive: bool = False

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return (_base_url(value) or "https://slack.com/api") + "/"


class IntercomSettings(Strict):
    """Intercom as the conversation source: region, pinned API version, the note's author."""

    base_url: str = "https://api.intercom.io"  # EU: https://api.eu.intercom.io, AU: https://api.au.intercom.io
    api_version: Literal["2.14", "2.15", "2.16"] = "2.14"
    # The admin the notes are written as; empty: the admin the token belongs to (GET /me).
    admin_id: str = ""
    # Company custom attributes holding the plan and lifecycle (monthly_spend is Intercom's own MRR field).
    plan_attribute: str = "plan"
    lifecycle_attribute: str = "lifecycle"
    # Conversations updated in the last N seconds wait for the next poll: search reads an index that
    # trails writes, and a cursor moved past an update not yet indexed would skip that conversation.
    settle_seconds: float = Field(default=60.0, ge=0.0, le=3600.0)
    # Intercom allows 10,000 calls a minute per app, counted in 10-second windows.
    requests_per_minute: int = Field(default=10_000, ge=60, le=1_000_000)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _base_url(value) or "https://api.intercom.io"


class LinearSettings(Strict):
    """Linear as the tracker: GraphQL endpoint and the team issues are filed in."""

    base_url: str = "https://api.linear.app/graphql"
    # The team's id (a UUID) or key (ENG); empty: the only team the key can see.
    team_id: str = ""
    # Labels an issue should carry that the team lacks are created as team labels (else left out).
    create_labels: bool = True
    # Linear's leaky buckets for an API key: requests and complexity points per hour.
    requests_per_hour: int = Field(default=5_000, ge=60, le=1_000_000)
    complexity_per_hour: int = Field(default=250_000, ge=1_000, le=100_000_000)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _base_url(value) or "https://api.linear.app/graphql"

    @field_validator("team_id")
    @classmethod
    def _team(cls, value: str) -> str:
        # A pasted team URL (https://linear.app/acme/team/ENG/active) names the team by its key.
        found = re.search(r"/team/([^/?#\s]+)", value)
        return found.group(1) if found else value.strip()


class ScalekitSettings(Strict):
    """Scalekit Agent Auth: which connection serves each connector, for which user."""

    environment_url: str = ""
    # The connected-account identifier (a user or workspace id in your Scalekit environment).
    identifier: str = ""
    connections: dict[str, str] = Field(
        default_factory=lambda: {"zendesk": "zendesk", "notion": "notion", "slack": "slack",
                                 "intercom": "intercom", "linear": "linear"}
    )
    # Operations Scalekit runs as tools (execute_tool) instead of a direct API call with its token.
    tools: dict[Literal["slack.post_message"], str] = Field(default_factory=dict)

    @field_validator("environment_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _base_url(value)


class CredentialsSettings(Strict):
    """Which provider supplies connector tokens."""

    provider: Literal["env", "scalekit"] = "env"
