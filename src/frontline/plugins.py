"""Loading an entry-point group's objects, a broken plugin named in one sentence instead of a traceback.

Connector packages (:mod:`frontline.connectors.registry`) and flows' settings sections
(:mod:`frontline.config.sections`) are loaded this way; each says what a valid object is.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from frontline.errors import ConfigError


def load_group(group: str, valid: Callable[[str, Any], bool], expected: Callable[[str], str]) -> dict[str, Any]:
    """Every object registered in ``group``, by entry-point name, in name order.

    ``valid(name, obj)`` says whether a loaded object is one; ``expected(name)`` says what it should
    have been, for the sentence that names a package whose entry point cannot be loaded or is not one.
    """
    found: dict[str, Any] = {}
    for entry in sorted(entry_points(group=group), key=lambda ep: ep.name):
        where = f"entry point {entry.name} = {entry.value}"
        try:
            loaded = entry.load()
        except Exception as exc:  # a broken plugin is named, not a traceback
            raise ConfigError(where, f"{group}.{entry.name}",
                              f"cannot be loaded ({type(exc).__name__}: {exc}); reinstall or remove that package"
                              ) from None
        if not valid(entry.name, loaded):
            raise ConfigError(where, f"{group}.{entry.name}",
                              f"is not {expected(entry.name)}; fix or remove that package")
        found[entry.name] = loaded
    return found
