"""How the escalate flow describes itself: one line per escalation and a closing summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontline.flows.base import Output

if TYPE_CHECKING:  # the flow imports this module to describe itself: types only, no cycle
    from frontline.flows.escalate import EscalationOutcome, EscalationSummary


class EscalationReporter:
    """One status line per escalated conversation (none when ``quiet``)."""

    def __init__(self, output: Output, *, quiet: bool = False) -> None:
        self.output = output
        self.quiet = quiet

    def __call__(self, outcome: EscalationOutcome) -> None:
        """Show the outcome of one conversation."""
        if self.quiet:
            return
        safe = self.output.safe
        escalation = outcome.escalation
        mark = "[red]![/]" if outcome.completed else "[red]✗[/]"
        signals = ", ".join(s.name for s in escalation.signals)
        issue = f", {safe(outcome.issue.identifier)}" if outcome.issue else ""
        line = (f"{mark} conversation {safe(outcome.conversation.id)} {safe(escalation.priority)} → "
                f"{safe(outcome.channel or '(no alert)')} (score {escalation.score:.2f}: {safe(signals)}{issue})")
        if outcome.problems:
            line += f" [dim]· {safe('; '.join(outcome.problems))}[/]"
        self.output.line(line)


def print_escalation_summary(summary: EscalationSummary, output: Output, *, title: str = "Escalate") -> None:
    """The closing summary: scored, escalated by priority and signal, failures, elapsed."""
    line, safe = output.line, output.safe
    mode = " (dry run: nothing written)" if summary.dry_run else ""
    line(f"\n[bold]{safe(title)}{mode}[/]: {summary.scored} conversations scored, "
         f"{summary.escalated} escalated, {summary.skipped} already escalated, {len(summary.failures)} failed "
         f"in {summary.elapsed:.2f}s")
    if summary.by_priority:
        priorities = sorted(summary.by_priority)
        line("  by priority: " + ", ".join(f"{safe(k)} {summary.by_priority[k]}" for k in priorities))
        line("  signals: " + ", ".join(f"{safe(k)} {v}" for k, v in summary.by_signal.most_common()))
    if summary.busy:
        line(f"  being handled elsewhere right now (webhook or another worker): {summary.busy}")
    if summary.problems:
        line(f"  escalated with problems (see the notes): {summary.problems}")
    for item, problem in summary.failures[:10]:
        line(f"  [red]failed[/] conversation {safe(item)}: {safe(problem)}")
    if len(summary.failures) > 10:
        line(f"  … and {len(summary.failures) - 10} more failures")
    if summary.failures:
        line("  Failed conversations are retried on the next run; nothing done so far is repeated.")
