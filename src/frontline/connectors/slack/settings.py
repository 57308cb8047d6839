"""The ``[slack]`` section: where the Web API is and how fast a channel may be posted to. Secrets never live here."""

from __future__ import annotations

from pydantic import Field, field_validator

from frontline.config.base import Strict, http_url


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
        return (http_url(value) or "https://slack.com/api") + "/"
