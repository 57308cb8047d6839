"""The classifier names installed packages registered: what ``classifier.kind`` may say.

Read from the ``frontline.classifiers`` entry points without loading any of them, so validating the
settings needs nothing of the classifiers themselves (:mod:`frontline.classifiers` builds them, and
imports the settings).
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

GROUP = "frontline.classifiers"
"""The entry-point group of classifier factories."""


def available() -> dict[str, EntryPoint]:
    """Entry points registered for classifiers, by name."""
    return {entry.name: entry for entry in entry_points(group=GROUP)}


def classifier_names() -> list[str]:
    """The names ``classifier.kind`` accepts, sorted."""
    return sorted(available())


def unregistered(name: str | None = None) -> str:
    """What to say of a classifier name nothing registered (``name`` when the sentence must show it)."""
    known = ", ".join(classifier_names()) or "none installed"
    named = f"names unknown classifier {name!r}" if name is not None else "names no installed classifier"
    return f"{named} (known: {known}); pick one of those or install the package that registers it"
