"""A throwaway PostgreSQL schema per test, on the server named by FRONTLINE_TEST_POSTGRES_URL.

Tests that need PostgreSQL are skipped when the variable is unset, so `make test` works on a laptop
without a server; `.ci/run` starts one and sets it. Each test gets a schema of its own (selected
with ``options=-csearch_path=…`` in the URL it receives) and the schema is dropped afterwards.
"""

from __future__ import annotations

import gc
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

ENV = "FRONTLINE_TEST_POSTGRES_URL"


def server_url() -> str | None:
    """The test server's URL, or None when PostgreSQL tests are off."""
    return os.environ.get(ENV) or None


needs_postgres = pytest.mark.skipif(server_url() is None, reason=f"{ENV} is not set (see .ci/run)")


@contextmanager
def fresh_schema(options: str = "") -> Iterator[str]:
    """A URL whose connections land in a new, empty schema; the schema is dropped on exit."""
    import psycopg

    url = server_url()
    if url is None:
        pytest.skip(f"{ENV} is not set (see .ci/run)")
    schema = f"fl_test_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-csearch_path={schema} {options}'.strip())}"
    finally:
        gc.collect()  # engines a test forgot to dispose give their connections back
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
