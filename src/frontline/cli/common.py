"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import TracebackType
from typing import Any, TextIO, cast

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from frontline import scrub
from frontline.config import Settings, load_settings
from frontline.flows import base, registry
from frontline.terminal import inert

# Through scrub.Stream: a configured secret echoed into anything printed is masked on its way out.
console = Console(file=cast(TextIO, scrub.Stream("stdout")), highlight=False, soft_wrap=True)
err_console = Console(file=cast(TextIO, scrub.Stream("stderr")), highlight=False)


def safe(value: object) -> str:
    """Text from data (an id, a subject, a channel, a file name, a vendor's words) as Rich prints it literally.

    Its markup is escaped (a ticket id ``[/]`` is not a closing tag) and its control characters are
    shown as escapes (:func:`frontline.terminal.inert`), so nothing a customer, a vendor or a file
    holds can stop a run or reach the terminal as a command. Everything printed from data goes
    through here.
    """
    return escape(inert(value))


def plural(count: int, noun: str) -> str:
    """``1 row``, ``2 rows``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def connector_options(func: Any) -> Any:
    """Flags that pick the team and override the configured connectors for one run."""
    # Any registered classifier's name (checked with the settings): a plugin brings its own.
    func = click.option("--classifier", help="Override classifier.kind (cascade, model, rules, llm, …).")(func)
    func = click.option("--chat", help="Chat connector (outbox, slack, …).")(func)
    func = click.option("--kb", help="Knowledge-base connector (local, notion, …).")(func)
    func = click.option("--helpdesk", help="Helpdesk connector (local, zendesk, …).")(func)
    func = click.option("--team", help="Only this team of the configuration (default: every team).")(func)
    return func


def overrides(*, helpdesk: str | None = None, kb: str | None = None, chat: str | None = None,
              classifier: str | None = None) -> dict[tuple[str, ...], Any]:
    """The settings the connector flags override."""
    return {("connectors", "helpdesk"): helpdesk, ("connectors", "kb"): kb, ("connectors", "chat"): chat,
            ("classifier", "kind"): classifier}


def selected_teams(settings: Settings, team: str | None) -> list[tuple[str, Settings]]:
    """(name, settings) of the team asked for, or of every team in the configuration."""
    names = [team] if team else settings.team_names
    return [(name, settings.for_team(name)) for name in names]


def settings_from(ctx: click.Context, overrides: Mapping[tuple[str, ...], Any] | None = None) -> Settings:
    """Load settings with the global --config and command-line overrides."""
    root = ctx.find_root()
    path = root.obj.get("config_path") if root.obj else None
    return load_settings(path, overrides=overrides)


class ProgressReport:
    """Long work's progress on stderr: a rich bar on a terminal, else a plain line for each step worth telling.

    Called as ``report(stage, done, total)`` (:data:`frontline.decide.OnProgress`), so the training
    and evaluation code reports without knowing about consoles. Off a terminal, a short line is
    printed per step when there are at most 20, else one at each tenth of the way (never per row);
    ``plain=False`` leaves it silent there (the caller prints its own lines).
    """

    STEPS_TOLD = 20

    def __init__(self, label: str, *, plain: bool = True) -> None:
        self.label = label
        self.plain = plain
        self._bar: Progress | None = None
        self._task: Any = None
        self._told = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Report that ``stage`` has been reached, ``done`` of ``total`` steps."""
        description = f"{self.label}: {stage}" if stage else self.label
        if sys.stderr.isatty():
            if self._bar is None:
                self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeRemainingColumn(), console=err_console, transient=True)
                self._bar.start()
                self._task = self._bar.add_task(description, total=total)
            self._bar.update(self._task, description=description, completed=done, total=total)
            return
        if not self.plain or total <= 0:
            return
        tenth = done * 10 // total
        if total <= self.STEPS_TOLD or tenth != self._told:
            self._told = tenth
            click.echo(description, err=True)

    def close(self) -> None:
        """Take the bar off the terminal."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> ProgressReport:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


class ConsoleOutput:
    """Where flows describe what they do on the command line: the console, and a progress bar on stderr."""

    def line(self, text: str) -> None:
        """Print one line of Rich markup."""
        console.print(text, markup=True)

    def safe(self, value: object) -> str:
        """Data shown literally (:func:`safe`)."""
        return safe(value)

    def progress(self, label: str) -> base.Progress:
        """A bar on a terminal, nothing elsewhere (each item's line says the rest)."""
        return ProgressReport(label, plain=False)


class FlowChoice(click.Choice):  # type: ignore[type-arg]
    """A flow's name, among the installed flows (``listing``: only those that list work after a cursor)."""

    def __init__(self, *, listing: bool = False) -> None:
        super().__init__([])
        self.listing = listing

    @property  # type: ignore[override]
    def choices(self) -> list[str]:
        """Looked up when asked, so the flows are loaded only by a command that needs them."""
        return registry.names(listing=self.listing)

    @choices.setter
    def choices(self, value: object) -> None:
        """click sets it once; the registry is the source."""
