"""Notion as frontline's knowledge base: help articles in a database or the workspace
(``kb``), page text and ranking (``text``).

Importing this package stays cheap (its settings and limits are read whenever settings are
validated); the adapter and its SDK load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontline.connectors.notion.package import NOTION

if TYPE_CHECKING:
    from frontline.connectors.notion.kb import NotionKnowledgeBase

__all__ = ["NOTION", "NotionKnowledgeBase"]


def __getattr__(name: str) -> Any:
    """``NotionKnowledgeBase``, imported on first use."""
    if name == "NotionKnowledgeBase":
        from frontline.connectors.notion.kb import NotionKnowledgeBase

        return NotionKnowledgeBase
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
