"""Linear as frontline's tracker: one issue per escalation (``tracker``), GraphQL calls and
errors (``api``), the documents sent (``documents``).

Importing this package stays cheap (its settings and limits are read whenever settings are
validated); the adapter and its SDK load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontline.connectors.linear.package import LINEAR

if TYPE_CHECKING:
    from frontline.connectors.linear.tracker import LinearTracker

__all__ = ["LINEAR", "LinearTracker"]


def __getattr__(name: str) -> Any:
    """``LinearTracker``, imported on first use."""
    if name == "LinearTracker":
        from frontline.connectors.linear.tracker import LinearTracker

        return LinearTracker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
