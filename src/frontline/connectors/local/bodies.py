"""How an imported body is read: its declared format, and plain text kept as written (HTML reduced to text).

Shared by the ticket importer and the embedded conversation source, so neither imports the other.
"""

from __future__ import annotations

import math
from typing import Any

from frontline.decide.text import html_to_text

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
