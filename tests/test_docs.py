"""The README's configuration examples are valid configuration (docs that lie are bugs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from frontline.config import load_settings

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_the_readme_has_configuration_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{n}" for n in range(len(BLOCKS))])
def test_each_toml_example_loads(block: str, tmp_path: Path) -> None:
    config = tmp_path / "frontline.toml"
    config.write_text(block, encoding="utf-8")
    (tmp_path / "my-templates").mkdir()
    load_settings(config, environ={}, dotenv=None)
