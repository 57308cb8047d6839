"""Slack as a connector package: its settings section, the variables its credential is read from,
and its documented rate limits (registered under the ``frontline.connectors`` entry points).

The adapters import it from here, not from the package's ``__init__``, which imports them on first use.
"""

from __future__ import annotations

from frontline.connectors.package import ConnectorPackage
from frontline.connectors.slack.limits import slack_rules
from frontline.connectors.slack.settings import SlackSettings

SLACK = ConnectorPackage(
    name="slack", service="Slack", settings_model=SlackSettings,
    key_env_vars=("SLACK_BOT_TOKEN",), secret_env_vars=("SLACK_SIGNING_SECRET",),
    env_settings={"SLACK_BASE_URL": "base_url"}, rules=slack_rules,
)
"""Slack's settings section, credential and rate limits (entry point ``frontline.connectors``)."""
