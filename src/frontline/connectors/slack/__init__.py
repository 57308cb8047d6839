"""Slack as frontline's chat: alerts posted to channels (``chat``), the Web API's calls and
errors (``api``), one post a second per channel (``pacer``).

Importing this package stays cheap (its settings and limits are read whenever settings are
validated); the adapter and its SDK load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontline.connectors.slack.package import SLACK

if TYPE_CHECKING:
    from frontline.connectors.slack.chat import SlackChat

__all__ = ["SLACK", "SlackChat"]


def __getattr__(name: str) -> Any:
    """``SlackChat``, imported on first use."""
    if name == "SlackChat":
        from frontline.connectors.slack.chat import SlackChat

        return SlackChat
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
