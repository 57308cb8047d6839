"""The ``[linear]`` section: GraphQL endpoint, the team issues go to, the hourly budgets. Secrets never live here."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from frontline.config.base import Strict, http_url


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
        return http_url(value) or "https://api.linear.app/graphql"

    @field_validator("team_id")
    @classmethod
    def _team(cls, value: str) -> str:
        # A pasted team URL (https://linear.app/acme/team/ENG/active) names the team by its key.
        found = re.search(r"/team/([^/?#\s]+)", value)
        return found.group(1) if found else value.strip()
