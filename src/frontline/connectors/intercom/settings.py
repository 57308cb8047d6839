"""The ``[intercom]`` section: region, pinned API version, the note's author. Secrets never live here."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from frontline.config.base import Strict, http_url


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
        return http_url(value) or "https://api.intercom.io"
