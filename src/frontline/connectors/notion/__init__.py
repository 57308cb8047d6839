"""Notion as frontline's knowledge base: help articles in a database or the workspace
(``kb``), page text and ranking (``text``).

Importing this package stays cheap (its settings and limits are read whenever settings are
validated); the adapter and its SDK load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontline.connectors.notion.limits import notion_rules
from frontline.connectors.notion.settings import NotionSettings
from frontline.connectors.package import ConnectorPackage

if TYPE_CHECKING:
    from frontline.connectors.notion.kb import NotionKnowledgeBase

__all__ = ["NOTION", "NotionKnowledgeBase"]


def __getattr__(name: str) -> Any:
    """``NotionKnowledgeBase``, imported on first use."""
    if name == "NotionKnowledgeBase":
        from frontline.connectors.notion.kb import NotionKnowledgeBase

        return NotionKnowledgeBase
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


NOTION = ConnectorPackage(
    name="notion", service="Notion", settings_model=NotionSettings, key_env_vars=("NOTION_TOKEN",),
    env_settings={"NOTION_DB_ID": "database_id", "NOTION_BASE_URL": "base_url"}, rules=notion_rules,
)
"""Notion's settings section, credential and rate limit (entry point ``frontline.connectors``)."""
