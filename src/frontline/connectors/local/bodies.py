"""How an imported row's fields are read: ids in their one form, text any store can hold, and a body in its
declared format (plain text kept as written, HTML reduced to text).

Shared by the ticket importer and the embedded conversation source, so neither imports the other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from frontline.decide.text import html_to_text
from frontline.model import normalise_id
from frontline.storable import MAX_ID, text_field_problem

# A row's (or a conversation's, or a part's) ``format``: what its body is written in. Text is the default.
FORMATS = {"text": "text", "plain": "text", "text/plain": "text", "html": "html", "text/html": "html"}


def field_text(value: Any) -> str:
    """A field's value as text: None and NaN (a blank spreadsheet cell) are empty, NUL is dropped, ends stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value).replace("\x00", "").strip()


def body_format(value: Any, name: str = "format") -> str:
    """``"html"`` or ``"text"`` from a ``format`` (or ``content_type``) hint; no hint is text. ValueError otherwise."""
    text = field_text(value).lower()
    if not text:
        return "text"
    if isinstance(value, str) and text in FORMATS:
        return FORMATS[text]
    raise ValueError(f"{name} {str(value)[:40]!r} is not html or text (leave it out for plain text)")


def body_text(value: Any, form: str) -> str:
    """A body as it is stored: plain text as written (NUL and surrounding whitespace aside), HTML reduced to text."""
    text = field_text(value)
    return html_to_text(text) if form == "html" else text


class RowError(ValueError):
    """A row that cannot be imported, and the field at fault (``field``) when one is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def check_storable(row: Mapping[str, Any]) -> None:
    """RowError naming the first field whose text no store can hold (a lone surrogate, which JSON's ``\\ud800``
    escape gives): one such row would otherwise fail the whole import. NUL is dropped later, not refused."""
    found = text_field_problem(dict(row), "", nul=True)
    if found is not None:
        where, problem = found
        # The path may itself hold the surrogate (a key): name it the way a person can read and print it.
        label = where.encode("utf-8", "backslashreplace").decode("utf-8")
        raise RowError(f"{label} {problem}", label)


def checked_id(value: Any) -> str:
    """An id in its one form (:func:`normalise_id`), at most MAX_ID characters (the width of the id columns triage
    and the inbox write, which PostgreSQL enforces); RowError otherwise."""
    if isinstance(value, Mapping | list):  # never an id written out as "{'a': 1}"
        raise RowError("has an id that is an object or a list, not a string or number", "id")
    try:
        ident = normalise_id(value)
    except ValueError as exc:
        raise RowError(f"has an invalid id: {exc}", "id") from None
    if len(ident) > MAX_ID:
        raise RowError(f"has an id longer than {MAX_ID} characters", "id")
    return ident
