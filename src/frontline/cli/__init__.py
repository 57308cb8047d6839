"""The `frontline` command: one module per command group, errors turned into one clear sentence.

The group itself lives in :mod:`frontline.cli.group`, which every command module imports; this
package imports the command modules, so ``from frontline.cli import cli`` is the whole command.
"""

from __future__ import annotations

from frontline.cli import demo, doctor, kb, model, run, serve, state, tickets, worker  # noqa: F401  (registers commands)
from frontline.cli.group import FrontlineGroup, cli

__all__ = ["FrontlineGroup", "cli", "main"]


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="frontline")
