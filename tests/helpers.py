"""Helpers for tests: running coroutines, building settings for a workspace."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from frontline.config import Settings, load_settings

T = TypeVar("T")
# Each test's reports by phase ("setup", "call", "teardown"), kept by tests/conftest.py: a fixture's
# teardown can tell whether the test itself ran and passed.
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_DATA = SHARED / "data"
# Every test that needs the project's shared folder (vendor specs, public datasets) skips with this
# reason, so the closing summary can count them in one line (tests/conftest.py).
SHARED_MISSING = "../shared (vendor specs and public datasets) is not beside the checkout"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion (no pytest-asyncio needed)."""
    return asyncio.run(coro)


def make_settings(workspace: Path, toml: str = "", **overrides: Any) -> Settings:
    """Settings for a test workspace, optionally with extra TOML."""
    config = workspace / "frontline.toml"
    kb = (workspace.parent / "kb").as_posix()
    local = f'[local]\nworkspace = "{workspace.as_posix()}"\nkb_dir = "{kb}"\necho = false\nkb_embeddings = "off"\n'
    config.write_text(toml + "\n" + local, encoding="utf-8")
    return load_settings(config, dotenv=None, environ={}, overrides=overrides)


