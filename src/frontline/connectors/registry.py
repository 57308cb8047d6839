"""Finds connector classes and connector packages by name through entry points.

Built-ins register exactly as a third-party package does (see ``pyproject.toml``): adapters under
one group per port (``frontline.helpdesks``, …), and each vendor's
:class:`~frontline.connectors.package.ConnectorPackage` (settings section, key variables, rate
limits, environment credential) under ``frontline.connectors``, named like its adapters.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from frontline.errors import ConfigError
from frontline.plugins import load_group

if TYPE_CHECKING:
    from frontline.connectors.package import ConnectorPackage

GROUPS = {
    "helpdesk": "frontline.helpdesks",
    "kb": "frontline.knowledge_bases",
    "chat": "frontline.chats",
    "tracker": "frontline.trackers",
    "conversations": "frontline.conversations",
}
PACKAGES = "frontline.connectors"


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


@functools.cache
def packages() -> dict[str, ConnectorPackage]:
    """Every installed connector package, by name (loaded once per process)."""
    from frontline.connectors.package import ConnectorPackage

    return load_group(PACKAGES, lambda name, package: isinstance(package, ConnectorPackage) and package.name == name,
                      lambda name: f"a ConnectorPackage named {name!r}")


def package(name: str) -> ConnectorPackage | None:
    """The connector package called ``name``; None for connectors that declare none (the embedded ones)."""
    return packages().get(name)


def sections() -> dict[str, Any]:
    """The settings sections installed connector packages declare: section name → settings model."""
    return {name: found.settings_model for name, found in packages().items() if found.settings_model is not None}
