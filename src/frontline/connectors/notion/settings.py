"""The ``[notion]`` section: the database of help articles and the integration's rate. Secrets never live here."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from frontline.config.base import Strict, http_url


class NotionSettings(Strict):
    """Notion as the knowledge base: a database of help articles, or the whole workspace."""

    database_id: str = ""
    base_url: str = "https://api.notion.com"
    # The page property searched and shown as the title; empty: the database's title property.
    title_property: str = ""
    # Notion allows an integration "an average of three requests per second".
    requests_per_second: float = Field(default=3.0, gt=0.0, le=1_000.0)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value) or "https://api.notion.com"

    @field_validator("database_id")
    @classmethod
    def _database(cls, value: str) -> str:
        value = value.strip()
        # A pasted database URL works too: the id is the last 32 hex digits of its path
        # (the query string's ?v= is the view's id, not the database's).
        found = re.findall(r"[0-9a-fA-F]{32}|[0-9a-fA-F-]{36}", value.split("?", 1)[0].split("#", 1)[0])
        return found[-1] if found else value
