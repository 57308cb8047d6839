"""Slack as frontline's chat: alerts posted to channels (``chat``), the Web API's calls and
errors (``api``), one post a second per channel (``pacer``).

Importing this package stays cheap (its settings and limits are read whenever settings are
validated); the adapter and its SDK load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontline.connectors.package import ConnectorPackage
from frontline.connectors.slack.limits import slack_rules
from frontline.connectors.slack.settings import SlackSettings

if TYPE_CHECKING:
    from frontline.connectors.slack.chat import SlackChat

__all__ = ["SLACK", "SlackChat"]


def __getattr__(name: str) -> Any:
    """``SlackChat``, imported on first use."""
    if name == "SlackChat":
        from frontline.connectors.slack.chat import SlackChat

        return SlackChat
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SLACK = ConnectorPackage(
    name="slack", service="Slack", settings_model=SlackSettings,
    key_env_vars=("SLACK_BOT_TOKEN",), secret_env_vars=("SLACK_SIGNING_SECRET",),
    env_settings={"SLACK_BASE_URL": "base_url"}, rules=slack_rules,
)
"""Slack's settings section, credential and rate limits (entry point ``frontline.connectors``)."""
