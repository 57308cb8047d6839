"""frontline.decide: pure deciding (classifiers, signals, scores); no I/O beyond loading a model file."""

from __future__ import annotations

from collections.abc import Callable

OnProgress = Callable[[str, int, int], None]
"""How long work reports itself: ``(what was just done, steps done, steps in all)``; the caller draws it."""


def _silent(stage: str, done: int, total: int) -> None:
    """Progress nobody asked to see."""


def progress_or_silent(on_progress: OnProgress | None) -> OnProgress:
    """``on_progress``, or a callback that does nothing, so the work itself never checks for None."""
    return on_progress or _silent
