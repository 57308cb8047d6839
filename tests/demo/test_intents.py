"""The demo's intent table is a data file shipped with the package, read when the generator is imported."""

from __future__ import annotations

import fnmatch
import math
import tomllib
from pathlib import Path

from frontline.demo.generator import CATEGORIES, INTENTS, PLANS, SEVERITIES, load_intents

ROOT = Path(__file__).parents[2]
TABLE = ROOT / "src" / "frontline" / "demo" / "data" / "intents.toml"


def test_the_intents_are_those_of_the_data_file() -> None:
    text = TABLE.read_text(encoding="utf-8")
    assert load_intents(text) == INTENTS
    assert len(INTENTS) == text.count("\n[[intent]]\n") > 40


def test_editing_the_data_file_changes_the_intents() -> None:
    text = TABLE.read_text(encoding="utf-8").replace('key = "bug.page_error"', 'key = "bug.page_broken"', 1)
    assert load_intents(text)[0].key == "bug.page_broken" != INTENTS[0].key


def test_the_data_file_ships_with_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["frontline"]
    relative = TABLE.relative_to(ROOT / "src" / "frontline").as_posix()
    assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), patterns


def test_every_intent_is_well_formed() -> None:
    assert len({i.key for i in INTENTS}) == len(INTENTS)
    for intent in INTENTS:
        assert set(intent.labels) <= set(CATEGORIES) and math.isclose(sum(intent.labels.values()), 1.0), intent.key
        assert set(intent.severities) <= set(SEVERITIES) and intent.weight > 0, intent.key
        assert set(intent.plans) <= set(PLANS) and intent.variants, intent.key
        assert all(body and isinstance(subjects, tuple) for body, subjects in intent.variants), intent.key

