"""Notion as a connector package: its settings section, the variables its credential is read from,
and its documented rate limits (registered under the ``frontline.connectors`` entry points).

The adapters import it from here, not from the package's ``__init__``, which imports them on first use.
"""

from __future__ import annotations

from frontline.connectors.notion.limits import notion_rules
from frontline.connectors.notion.settings import NotionSettings
from frontline.connectors.package import ConnectorPackage

NOTION = ConnectorPackage(
    name="notion", service="Notion", settings_model=NotionSettings, key_env_vars=("NOTION_TOKEN",),
    env_settings={"NOTION_DB_ID": "database_id", "NOTION_BASE_URL": "base_url"}, rules=notion_rules,
)
"""Notion's settings section, credential and rate limit (entry point ``frontline.connectors``)."""
