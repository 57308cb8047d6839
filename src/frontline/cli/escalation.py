"""Console output of the escalate flow: one line per escalation and a closing summary."""

from __future__ import annotations

from frontline.cli.common import console, safe
from frontline.flows.escalate import EscalationOutcome, EscalationSummary


class EscalationReporter:
    """One status line per escalated conversation."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet

    def __call__(self, outcome: EscalationOutcome) -> None:
        """Print the outcome of one conversation."""
        if self.quiet:
            return
        escalation = outcome.escalation
        mark = "[red]![/]" if outcome.completed else "[red]✗[/]"
        signals = ", ".join(s.name for s in escalation.signals)
        issue = f", {safe(outcome.issue.identifier)}" if outcome.issue else ""
        line = (f"{mark} conversation {safe(outcome.conversation.id)} {safe(escalation.priority)} → "
                f"{safe(outcome.channel or '(no alert)')} (score {escalation.score:.2f}: {safe(signals)}{issue})")
        if outcome.problems:
            line += f" [dim]· {safe('; '.join(outcome.problems))}[/]"
        console.print(line)


def print_escalation_summary(summary: EscalationSummary, *, title: str = "Escalate") -> None:
    """The closing summary: scored, escalated by priority and signal, failures, elapsed."""
    mode = " (dry run: nothing written)" if summary.dry_run else ""
    console.print(f"\n[bold]{safe(title)}{mode}[/]: {summary.scored} conversations scored, "
                  f"{summary.escalated} escalated, {summary.skipped} already escalated, {len(summary.failures)} failed "
                  f"in {summary.elapsed:.2f}s")
    if summary.by_priority:
        priorities = sorted(summary.by_priority)
        console.print("  by priority: " + ", ".join(f"{safe(k)} {summary.by_priority[k]}" for k in priorities))
        console.print("  signals: " + ", ".join(f"{safe(k)} {v}" for k, v in summary.by_signal.most_common()))
    if summary.busy:
        console.print(f"  being handled elsewhere right now (webhook or another worker): {summary.busy}")
    if summary.problems:
        console.print(f"  escalated with problems (see the notes): {summary.problems}")
    for item, problem in summary.failures[:10]:
        console.print(f"  [red]failed[/] conversation {safe(item)}: {safe(problem)}")
    if len(summary.failures) > 10:
        console.print(f"  … and {len(summary.failures) - 10} more failures")
    if summary.failures:
        console.print("  Failed conversations are retried on the next run; nothing done so far is repeated.")
