"""The settings sections installed packages declare: connector packages' and flows' alike.

A connector package brings its section with its :class:`~frontline.connectors.package.ConnectorPackage`
(``frontline.connectors``); a flow brings its own under the entry-point group ``frontline.settings``,
section name → the pydantic model that validates it::

    [project.entry-points."frontline.settings"]
    example = "frontline_example_flow.settings:ExampleSettings"

Only the model is loaded, from a light module of the flow's package, so the settings never import
a flow (flows import the settings). The flow reads its section as ``settings.section("example")``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from frontline.connectors.registry import sections as connector_sections
from frontline.errors import ConfigError
from frontline.plugins import load_group

GROUP = "frontline.settings"
"""The entry-point group of flows' settings sections: section name → settings model."""


@cache
def flow_sections() -> dict[str, type[BaseModel]]:
    """The sections installed flows declare (``frontline.settings``), by name; loaded once per process."""
    return load_group(GROUP, lambda name, model: isinstance(model, type) and issubclass(model, BaseModel),
                      lambda name: "a pydantic settings model")


def sections() -> dict[str, Any]:
    """Every section an installed package declares, connector packages' and flows': name → settings model.

    Two packages declaring one section is refused in one sentence: neither could be configured.
    """
    connectors = connector_sections()
    flows = flow_sections()
    for name in sorted(set(connectors) & set(flows)):
        raise ConfigError("the installed packages", f"[{name}]",
                          "is declared both by a connector package and by a flow; uninstall one of them")
    return {**connectors, **flows}
