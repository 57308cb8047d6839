"""How the triage flow describes itself: a progress bar on long runs, one line per ticket, a closing summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontline.flows.base import Output, Progress

if TYPE_CHECKING:  # the flow imports this module to describe itself: types only, no cycle
    from frontline.flows.triage import RunSummary, TicketOutcome


class TriageReporter:
    """A progress bar on long runs, one status line per ticket (none when ``quiet``)."""

    def __init__(self, output: Output, *, quiet: bool = False, progress_threshold: int = 50) -> None:
        self.output = output
        self.quiet = quiet
        self.threshold = progress_threshold
        self._progress: Progress | None = None
        self._total = 0
        self._done = 0

    def start(self, total: int | None) -> None:
        """Show a progress bar when there is a lot to do (and a terminal to draw on: the lines say the rest)."""
        if total and total >= self.threshold:
            self._progress = self.output.progress("triage")
            self._total, self._done = total, 0
            self._progress("", 0, total)

    def ticket(self, outcome: TicketOutcome) -> None:
        """One line per ticket."""
        if self._progress is not None:
            self._done += 1
            self._progress("", self._done, self._total)
        if self.quiet:
            return
        safe = self.output.safe
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
        self.output.line(line)

    def finish(self, summary: RunSummary) -> None:
        """Stop the progress bar."""
        if self._progress is not None:
            self._progress.close()


def print_summary(summary: RunSummary, output: Output, *, title: str = "Triage") -> None:
    """The closing summary: handled, per category and severity, failures, elapsed."""
    line, safe = output.line, output.safe
    mode = " (dry run: nothing written)" if summary.dry_run else ""
    rate = summary.handled / summary.elapsed if summary.elapsed > 0 else 0.0
    line(f"\n[bold]{safe(title)}{mode}[/]: {summary.handled} handled, {summary.skipped} already handled, "
         f"{len(summary.failures)} failed in {summary.elapsed:.2f}s ({rate:,.0f}/s)")
    if summary.by_category:
        cats = ", ".join(f"{safe(k)} {v}" for k, v in summary.by_category.most_common())
        line(f"  by category: {cats}")
        sevs = ", ".join(f"{safe(k)} {summary.by_severity[k]}" for k in sorted(summary.by_severity))
        line(f"  by severity: {sevs}")
    if summary.retriaged or summary.rechecked:
        line(f"  re-triaged after the customer wrote again: {summary.retriaged} changed (thread reply and note), "
             f"{summary.rechecked} unchanged")
    if summary.review:
        line(f"  sent for human review: {summary.review}")
    if summary.problems:
        line(f"  handled with problems (see notes): {summary.problems}")
    if summary.flags.get("llm_failed"):
        line(f"  [yellow]LLM unavailable[/] for {summary.flags['llm_failed']}: kept the local answer, "
             "flagged llm_failed (`frontline state show ID` has the reason)")
    if summary.flags.get("classifier_failed"):
        line(f"  [yellow]classifier failed[/] for {summary.flags['classifier_failed']}: keyword rules used")
    for ticket_id, problem in summary.failures[:10]:
        line(f"  [red]failed[/] #{safe(ticket_id)}: {safe(problem)}")
    if len(summary.failures) > 10:
        line(f"  … and {len(summary.failures) - 10} more failures")
    if summary.failures:
        line("  Failed tickets stay unhandled and are retried on the next run.")
