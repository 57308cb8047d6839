"""The base of every settings section: unknown keys fail, values are immutable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A settings section that refuses unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)
