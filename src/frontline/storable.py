"""What the stores can hold as text: the checks every edge and the inbox share.

SQLite cannot encode a lone surrogate (``"\\ud800"``, which JSON's ``\\ud800`` escape produces), and
PostgreSQL refuses both that and NUL in text, and a value longer than its ``String(n)`` column. A
value that fails here would fail its whole transaction, so it is refused where it arrives, by name.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

MAX_ID = 200  # the String(200) id columns: inbox.item_id and inbox.delivery, handled.item_id, …


def text_problem(value: str, *, limit: int | None = None, nul: bool = False) -> str | None:
    """Why ``value`` cannot be stored as it is, as a phrase (``"contains NUL"``), or None.

    ``nul=True`` allows NUL (for text the caller strips it from, or stores where NUL is allowed).
    """
    if not nul and "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (it holds a lone surrogate such as \\ud800)"
    if limit is not None and len(value) > limit:
        return f"is longer than {limit} characters"
    return None


def json_problem(value: Any, path: str, *, nul: bool = False) -> tuple[str, str] | None:
    """The first place in a JSON value the stores cannot hold, as (path, problem), or None (``nul`` as in
    :func:`text_problem`)."""
    for where, text in _strings(value, path):
        if text is None:
            return where, "is not a JSON value (a number that is not finite, or an object JSON cannot write)"
        problem = text_problem(text, nul=nul)
        if problem is not None:
            return where, problem
    return None


def text_field_problem(value: Any, path: str, *, nul: bool = False) -> tuple[str, str] | None:
    """The first string in ``value`` (keys too) the stores cannot hold, as (path, problem), or None; values that
    are not strings are not looked at (``nul`` as in :func:`text_problem`)."""
    for where, text in _strings(value, path):
        if text is not None and (problem := text_problem(text, nul=nul)) is not None:
            return where, problem
    return None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str | None]]:
    """Every string in ``value`` (keys too) with its path; None where a value is not JSON."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield path, None
                continue
            yield f"{path}.{key}" if path else key, key
            yield from _strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif (value is not None and not isinstance(value, bool | int | float)) or (
            isinstance(value, float) and not math.isfinite(value)):
        yield path, None
