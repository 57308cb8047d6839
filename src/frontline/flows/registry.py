"""Finds flows by name through the ``frontline.flows`` entry points, the seam a third-party flow uses too.

The built-in flows are declared in frontline's own ``pyproject.toml`` exactly as another package
would declare its own::

    [project.entry-points."frontline.flows"]
    triage = "frontline.flows.triage:TriageFlow"

An entry point names a :class:`~frontline.flows.base.Flow` subclass (or an instance of one). A flow
with a settings section of its own registers its model under ``frontline.settings``
(:mod:`frontline.config.sections`); a flow naming a section nothing declares is refused here.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from frontline.config import Settings
from frontline.config.sections import GROUP as SECTIONS
from frontline.config.sections import sections
from frontline.errors import ConfigError
from frontline.flows.base import Flow

GROUP = "frontline.flows"


@cache
def _loaded() -> dict[str, Flow]:
    found: dict[str, Flow] = {}
    for point in entry_points(group=GROUP):
        try:
            loaded = point.load()
        except ImportError as error:
            raise ConfigError("the installed packages", f"flow {point.name}",
                              f"cannot be loaded ({error}); reinstall the package that provides it") from None
        unit = loaded() if isinstance(loaded, type) else loaded
        if not isinstance(unit, Flow):
            raise ConfigError("the installed packages", f"flow {point.name}",
                              f"names {point.value}, which is not a frontline Flow; fix that package's entry point")
        section = unit.settings_section
        if section is not None and section not in Settings.model_fields and section not in sections():
            raise ConfigError("the installed packages", f"flow {point.name}",
                              f"names settings section [{section}], which no installed package declares; register "
                              f"its model under the {SECTIONS} entry points")
        found[point.name] = unit
    ordered = dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))
    takers: dict[str, str] = {}
    for name, unit in ordered.items():
        for source in unit.webhooks:
            if source in takers:
                raise ConfigError("the installed packages", f"flow {name}",
                                  f"takes {source} webhooks, which flow {takers[source]} takes already; a delivery "
                                  f"goes to one flow, so uninstall one of them")
            takers[source] = name
    return ordered


def flows() -> list[Flow]:
    """Every installed flow, in their running order."""
    return list(_loaded().values())


def names(*, listing: bool = False, default: bool = False) -> list[str]:
    """The installed flows' names in their running order.

    ``listing``: only those that list work after a cursor; ``default``: only those run when no flow
    is named (a flow may ask to run only when named).
    """
    return [name for name, unit in _loaded().items()
            if (unit.lists or not listing) and (unit.default or not default)]


def flow(name: str) -> Flow:
    """The flow registered as ``name``; one clear sentence naming the known ones when there is none."""
    found = _loaded()
    if name not in found:
        known = ", ".join(found) or "none installed"
        raise ConfigError("the command line", "flow", f"names unknown flow {name!r} (known: {known})")
    return found[name]


def webhook_flow(source: str) -> str | None:
    """The name of the flow that takes ``source``'s webhook deliveries (``"zendesk"``), or None when no flow does."""
    return next((name for name, unit in _loaded().items() if source in unit.webhooks), None)


def refresh() -> None:
    """Look the entry points up again (after a package was installed while this process ran)."""
    _loaded.cache_clear()
