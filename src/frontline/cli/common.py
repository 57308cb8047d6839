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
from frontline.flows.triage import RunSummary, TicketOutcome
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


class ConsoleReporter:
    """A progress bar on long runs, one status line per ticket, a closing summary."""

    def __init__(self, *, quiet: bool = False, progress_threshold: int = 50) -> None:
        self.quiet = quiet
        self.threshold = progress_threshold
        self._progress: ProgressReport | None = None
        self._total = 0
        self._done = 0

    def start(self, total: int | None) -> None:
        """Show a progress bar when there is a lot to do (and a terminal to draw on: the lines say the rest)."""
        if total and total >= self.threshold:
            self._progress = ProgressReport("triage", plain=False)
            self._total, self._done = total, 0
            self._progress("", 0, total)

    def ticket(self, outcome: TicketOutcome) -> None:
        """One line per ticket."""
        if self._progress is not None:
            self._done += 1
            self._progress("", self._done, self._total)
        if self.quiet:
            return
        t = outcome.triage
        if outcome.completed or outcome.alert_ref or not outcome.problems:
            mark = "[yellow]?[/]" if outcome.review else "[green]✓[/]"
        else:
            mark = "[red]✗[/]"
        detail = f"{safe(t.classifier)} {t.confidence:.2f}"
        if outcome.articles:
            detail += f", {len(outcome.articles)} article{'s' * (len(outcome.articles) != 1)}"
        line = (f"{mark} #{safe(outcome.ticket.id)} {safe(t.category)}/{safe(t.severity)} → "
                f"{safe(outcome.channel)} ({detail})")
        if outcome.problems:
            line += f" [dim]· {safe('; '.join(outcome.problems))}[/]"
        console.print(line, markup=True)

    def finish(self, summary: RunSummary) -> None:
        """Stop the progress bar."""
        if self._progress is not None:
            self._progress.close()


def print_summary(summary: RunSummary, *, title: str = "Triage") -> None:
    """The closing summary: handled, per category and severity, failures, elapsed."""
    mode = " (dry run: nothing written)" if summary.dry_run else ""
    rate = summary.handled / summary.elapsed if summary.elapsed > 0 else 0.0
    console.print(f"\n[bold]{safe(title)}{mode}[/]: {summary.handled} handled, {summary.skipped} already handled, "
                  f"{len(summary.failures)} failed in {summary.elapsed:.2f}s ({rate:,.0f}/s)")
    if summary.by_category:
        cats = ", ".join(f"{safe(k)} {v}" for k, v in summary.by_category.most_common())
        console.print(f"  by category: {cats}")
        sevs = ", ".join(f"{safe(k)} {summary.by_severity[k]}" for k in sorted(summary.by_severity))
        console.print(f"  by severity: {sevs}")
    if summary.review:
        console.print(f"  sent for human review: {summary.review}")
    if summary.problems:
        console.print(f"  handled with problems (see notes): {summary.problems}")
    if summary.flags.get("llm_failed"):
        console.print(f"  [yellow]LLM unavailable[/] for {summary.flags['llm_failed']}: kept the local answer, "
                      "flagged llm_failed (`frontline state show ID` has the reason)")
    if summary.flags.get("classifier_failed"):
        console.print(f"  [yellow]classifier failed[/] for {summary.flags['classifier_failed']}: keyword rules used")
    for ticket_id, problem in summary.failures[:10]:
        console.print(f"  [red]failed[/] #{safe(ticket_id)}: {safe(problem)}")
    if len(summary.failures) > 10:
        console.print(f"  … and {len(summary.failures) - 10} more failures")
    if summary.failures:
        console.print("  Failed tickets stay unhandled and are retried on the next run.")
