"""The base of every settings section: unknown keys fail, values are immutable."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A settings section that refuses unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def http_url(value: str) -> str:
    """A base URL without its trailing slash, or ValueError saying what one looks like (empty stays empty)."""
    value = value.strip().rstrip("/")
    if value and not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"must be an http(s) URL such as https://example.com (got {value!r})")
    return value
