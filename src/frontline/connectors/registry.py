"""Finds connector classes by name through entry points, the seam third-party packages use too."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from frontline.errors import ConfigError

GROUPS = {
    "helpdesk": "frontline.helpdesks",
    "kb": "frontline.knowledge_bases",
    "chat": "frontline.chats",
    "tracker": "frontline.trackers",
    "conversations": "frontline.conversations",
}


def available(port: str) -> dict[str, Any]:
    """Entry points registered for a port, by name."""
    return {ep.name: ep for ep in entry_points(group=GROUPS[port])}


def connector_class(port: str, name: str, source: str = "configuration") -> Any:
    """The class registered as ``name`` for ``port``; a clear error when unknown."""
    found = available(port)
    if name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(source, f"connectors.{port}", f"names unknown connector {name!r} (available: {known})")
    try:
        return found[name].load()
    except ImportError as exc:
        raise ConfigError(source, f"connectors.{port}",
                          f"connector {name!r} cannot be loaded ({exc}); is its package installed?") from None
