"""The local trained classifier: TF-IDF n-grams → linear SVM → stacked logistic layer, temperature-calibrated.

Features (see :mod:`frontline.decide.ngrams`): normalised text → word 1-2-grams, ``char_wb``
2-5-grams and word-stem pairs, sublinear TF-IDF. A one-vs-rest ``LinearSVC`` scores every label;
a small logistic layer fitted on out-of-fold SVM scores (stratified k-fold inside the training
data, k = 3 or fewer for tiny classes) corrects how labels are confused, and one inverse
temperature turns its logits into probabilities (see :mod:`frontline.decide.stacking`). The
stacker and its temperature are judged on honest logits: each training row scored by an SVM and a
stacker neither of which was fitted on that row, so the accuracy stored in the metadata is an
out-of-fold estimate. Both layers are linear and are folded into one weight matrix, so a
prediction is one sparse product.

A model file is a joblib dict ``{format, format_version, features, output, calibration, meta}``.
Loading unpickles it, so only load model files you (or your own ``frontline train``) wrote.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy import sparse
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from frontline.decide import OnProgress, modelfile, progress_or_silent
from frontline.decide.ngrams import compile_blocks, feature_union, normalise
from frontline.decide.stacking import Stacker, cross_fit, fit_inverse_temperature, softmax
from frontline.errors import ModelFormatError, TrainingDataError

MODEL_FORMAT = "frontline.trained-model"
# 2: normalised text, a word-pair block, and a stacked output layer stored as plain arrays.
MODEL_FORMAT_VERSION = 2
# Long tickets are read from the start only: the intent is nearly always stated early, and a
# pasted log would otherwise dominate both the time and the features.
DEFAULT_MAX_CHARS = 3000
CALIBRATION_FOLDS = 3
SVM_C = 0.7


@dataclass(frozen=True)
class ModelMeta:
    """What a trained model records about itself: labels, data, versions and training scores."""

    labels: tuple[str, ...]
    training_size: int
    trained_at: str
    sklearn_version: str
    format_version: int
    source: str
    max_chars: int
    calibration: str
    scores: Mapping[str, float] = field(default_factory=dict)
    # SHA-256 of the training file, so `frontline eval` knows its own training data under any name
    # ("" for other sources and for models saved before it was recorded).
    source_sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The metadata as plain JSON-serialisable values."""
        data = asdict(self)
        data["labels"] = list(self.labels)
        data["scores"] = dict(self.scores)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelMeta:
        """Rebuild metadata saved by :meth:`to_dict` (raises KeyError/TypeError when malformed)."""
        return cls(
            labels=tuple(str(label) for label in data["labels"]),
            training_size=int(data["training_size"]),
            trained_at=str(data["trained_at"]),
            sklearn_version=str(data["sklearn_version"]),
            format_version=int(data["format_version"]),
            source=str(data["source"]),
            max_chars=int(data["max_chars"]),
            calibration=str(data["calibration"]),
            scores={str(k): float(v) for k, v in dict(data["scores"]).items()},
            source_sha256=str(data.get("source_sha256", "")),
        )


class TrainedModel:
    """A fitted text classifier with calibrated probabilities; build with :meth:`train` or :meth:`load`."""

    def __init__(self, features: FeatureUnion, coef: np.ndarray, intercept: np.ndarray, labels: Sequence[str],
                 beta: float, meta: ModelMeta) -> None:
        # Feature-major float32 weights of the final logits, for fast row gathers.
        self._coef = np.ascontiguousarray(coef, dtype=np.float32)
        self._intercept = np.asarray(intercept, dtype=np.float32)
        self._features = features
        self._blocks = compile_blocks(features)
        self._labels = [str(label) for label in labels]
        if self._coef.ndim != 2 or self._blocks[-1].stop != self._coef.shape[0]:
            raise ValueError("the features and the output layer disagree on the number of features")
        if not self._coef.shape[1] == self._intercept.shape[0] == len(self._labels):
            raise ValueError("the output layer and the labels disagree on the number of labels")
        self._beta = float(beta)
        self.meta = meta

    @property
    def labels(self) -> list[str]:
        """The labels this model can predict, in the column order of :meth:`predict_proba`."""
        return list(self._labels)

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], *, source: str = "", source_sha256: str = "",
              max_chars: int = DEFAULT_MAX_CHARS, on_progress: OnProgress | None = None) -> TrainedModel:
        """Fit the features, the SVM, its stacked layer and the temperature (raises TrainingDataError).

        ``source`` and ``source_sha256`` record where the examples came from (a file's path and hash);
        ``on_progress`` hears of each step (the features, each calibration fold, the final model).
        """
        texts_list = _prepare(texts, max_chars)
        y = np.asarray([str(label) for label in labels], dtype=object)
        folds = _check_training_data(texts_list, y)
        steps = folds + 2
        tell = progress_or_silent(on_progress)
        tell(f"reading {len(texts_list):,} texts", 0, steps)
        features = feature_union(len(texts_list))
        try:
            matrix = features.fit_transform(texts_list).tocsr()
        except ValueError as exc:  # sklearn: "empty vocabulary; perhaps the documents only contain stop words"
            raise TrainingDataError(f"the texts hold no usable words or characters ({exc})") from None
        tell(f"{matrix.shape[1]:,} features ready", 1, steps)

        def fold_done(fold: int) -> None:
            tell(f"calibration fold {fold}/{folds} done", 1 + fold, steps)

        classifier, stacker, honest = _fit_layers(matrix, y, folds, fold_done)
        classes = [str(label) for label in classifier.classes_]
        index = {label: i for i, label in enumerate(classes)}
        gold = np.fromiter((index[label] for label in y), dtype=np.intp, count=len(y))
        beta = fit_inverse_temperature(honest, gold)
        probabilities = softmax(beta * honest)
        tell("final model done", steps, steps)
        coef, intercept = _fold_layers(classifier, stacker)
        train_logits = matrix @ coef + intercept
        scores = {
            "cv_accuracy": float(np.mean(honest.argmax(axis=1) == gold)),
            "cv_log_loss": float(-np.mean(np.log(np.clip(probabilities[np.arange(len(gold)), gold], 1e-12, 1.0)))),
            "cv_folds": float(folds),
            "train_accuracy": float(np.mean(train_logits.argmax(axis=1) == gold)),
        }
        meta = ModelMeta(
            labels=tuple(classes),
            training_size=len(texts_list),
            trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
            sklearn_version=sklearn.__version__,
            format_version=MODEL_FORMAT_VERSION,
            source=source,
            source_sha256=source_sha256,
            max_chars=max_chars,
            calibration=f"stacked logistic layer and temperature scaling on {folds}-fold out-of-fold SVM scores",
            scores=scores,
        )
        return cls(features, coef, intercept, classes, beta, meta)

    def predict_proba(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Label order and an (n_texts, n_labels) matrix of calibrated probabilities (rows sum to 1)."""
        if len(texts) == 0:
            return self.labels, np.zeros((0, len(self._labels)), dtype=np.float64)
        return self.labels, softmax(self._beta * self._logits(self.features(texts)))

    def _logits(self, matrices: list[sparse.csr_matrix]) -> np.ndarray:
        logits = np.zeros((matrices[0].shape[0], self._coef.shape[1]), dtype=np.float32)
        for block, matrix in zip(self._blocks, matrices, strict=True):
            logits += matrix @ self._coef[block.start:block.stop]
        result: np.ndarray = (logits + self._intercept).astype(np.float64)
        return result

    def features(self, texts: Sequence[str]) -> list[sparse.csr_matrix]:
        """The TF-IDF rows of each feature block (texts clipped and normalised like predictions are)."""
        prepared = _prepare(texts, self.meta.max_chars)
        return [block.transform(prepared) for block in self._blocks]

    def shares_features_with(self, other: TrainedModel) -> bool:
        """True when ``other`` turns text into exactly the same features (same vocabularies and weights).

        The category and severity models trained on the same history do, and then one
        featurisation serves both.
        """
        if self.meta.max_chars != other.meta.max_chars or len(self._blocks) != len(other._blocks):
            return False
        return all(
            a.signature == b.signature and np.array_equal(a.idf, b.idf) and a.vocabulary == b.vocabulary
            for a, b in zip(self._blocks, other._blocks, strict=True)
        )

    def adopt_features(self, other: TrainedModel) -> bool:
        """Use ``other``'s feature blocks when they are identical to this model's; True when adopted.

        Vocabularies are the biggest part of a loaded model: a severity model trained on the same
        history as the category model then holds no second copy of them.
        """
        if other is self or not self.shares_features_with(other):
            return False
        self._features = other._features
        self._blocks = other._blocks
        return True

    def predict_features(self, features: list[sparse.csr_matrix]) -> list[tuple[str, float]]:
        """Predictions from :meth:`features` of a model that :meth:`shares_features_with` this one."""
        rows = features[0].shape[0]
        if rows == 0:
            return []
        return self._best(softmax(self._beta * self._logits(features)))

    def predict(self, texts: Sequence[str], *, on_progress: OnProgress | None = None,
                batch: int = 1000) -> list[tuple[str, float]]:
        """The most probable label of each text with its probability.

        With ``on_progress`` the texts are read ``batch`` at a time and each batch is reported
        (`frontline eval` on a large file); the answers are the same.
        """
        if on_progress is not None and len(texts) > batch:
            answers: list[tuple[str, float]] = []
            for start in range(0, len(texts), batch):
                answers.extend(self.predict(texts[start:start + batch]))
                on_progress(f"scored {len(answers):,} of {len(texts):,} texts", len(answers), len(texts))
            return answers
        _, probabilities = self.predict_proba(texts)
        if probabilities.shape[0] == 0:
            return []
        return self._best(probabilities)

    def _best(self, probabilities: np.ndarray) -> list[tuple[str, float]]:
        labels = self._labels
        best = probabilities.argmax(axis=1)
        confidence = probabilities[np.arange(len(best)), best]
        return [(labels[i], float(p)) for i, p in zip(best.tolist(), confidence.tolist(), strict=True)]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to one file atomically (temporary file in the same folder, then rename)."""
        payload = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "features": self._features,
            "output": {"labels": list(self._labels), "coef": self._coef, "intercept": self._intercept},
            "calibration": {"method": "temperature", "beta": self._beta},
            "meta": self.meta.to_dict(),
        }
        modelfile.save(payload, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainedModel:
        """Read a model saved by :meth:`save` (ModelNotFoundError / ModelFormatError on failure)."""
        source = Path(path)
        payload = modelfile.load(source)
        return cls._from_payload(str(source), payload)

    @classmethod
    def _from_payload(cls, path: str, payload: object) -> TrainedModel:
        if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
            raise ModelFormatError(path, "it is not a frontline model file")
        version = payload.get("format_version")
        if version != MODEL_FORMAT_VERSION:
            raise ModelFormatError(
                path, f"it has model format {version!r}, this frontline reads format {MODEL_FORMAT_VERSION}"
            )
        try:
            meta = ModelMeta.from_dict(payload["meta"])
            beta = float(payload["calibration"]["beta"])
            features = payload["features"]
            if not isinstance(features, FeatureUnion):
                raise TypeError("features are not a scikit-learn FeatureUnion")
            output = payload["output"]
            model = cls(features, np.asarray(output["coef"]), np.asarray(output["intercept"]),
                        [str(label) for label in output["labels"]], beta, meta)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.predict_proba(["model probe"])
        except Exception as exc:
            saved = payload["meta"].get("sklearn_version") if isinstance(payload.get("meta"), dict) else None
            hint = "" if saved in (None, sklearn.__version__) else (
                f"; trained with scikit-learn {saved}, running {sklearn.__version__}"
            )
            raise ModelFormatError(path, f"its contents are incomplete or incompatible ({exc}{hint})") from None
        if list(meta.labels) != model.labels:
            raise ModelFormatError(path, "its metadata labels do not match the classifier")
        return model


def _fit_layers(matrix: sparse.csr_matrix, y: np.ndarray, folds: int,
                fold_done: Callable[[int], None]) -> tuple[LinearSVC, Stacker, np.ndarray]:
    """The SVM on all rows, the stacker on out-of-fold SVM scores, and honest (out-of-fold) stacked logits.

    liblinear releases the GIL, so the k fold SVMs and the final one run on threads, one per core;
    the folds go first so that the stacker is fitted while the final SVM is still training.
    """
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    splits = list(splitter.split(np.zeros(len(y)), y))
    labels = sorted(set(y.tolist()))

    def fit(rows: np.ndarray) -> LinearSVC:
        return LinearSVC(C=SVM_C).fit(matrix[rows], y[rows])

    with ThreadPoolExecutor(max_workers=max(1, min(folds + 1, os.cpu_count() or 1))) as pool:
        fold_models = [pool.submit(fit, train) for train, _ in splits]
        final = pool.submit(fit, np.arange(len(y)))
        scores = np.zeros((len(y), max(len(labels), 2)), dtype=np.float64)
        for fold, ((_, test), future) in enumerate(zip(splits, fold_models, strict=True), start=1):
            model = future.result()
            if list(model.classes_) != labels:
                raise TrainingDataError("a calibration fold lacks a label; add examples to the rarest labels")
            scores[test] = _svm_logits(np.asarray(model.decision_function(matrix[test]), dtype=np.float64))
            fold_done(fold)
        index = {label: i for i, label in enumerate(labels)}
        gold = np.fromiter((index[label] for label in y), dtype=np.intp, count=len(y))
        stacker, honest = cross_fit(scores, gold, splits)
        return final.result(), stacker, honest


def _fold_layers(classifier: LinearSVC, stacker: Stacker) -> tuple[np.ndarray, np.ndarray]:
    """One feature-major weight matrix and intercept for svm-then-stacker (both linear)."""
    weights = np.asarray(classifier.coef_, dtype=np.float32).T
    bias = np.asarray(classifier.intercept_, dtype=np.float64)
    if weights.shape[1] == 1:  # binary: one column d becomes the two logits (-d/2, d/2)
        weights = np.hstack([-weights / 2, weights / 2])
        bias = np.array([-bias[0] / 2, bias[0] / 2])
    coef = np.ascontiguousarray(weights @ stacker.weights.astype(np.float32))
    return coef, bias @ stacker.weights + stacker.bias


def _prepare(texts: Sequence[str], max_chars: int) -> list[str]:
    return [normalise(text[:max_chars] if len(text) > max_chars else text) for text in texts]


def _check_training_data(texts: list[str], labels: np.ndarray) -> int:
    """Validate the labelled data; returns the number of calibration folds the classes allow."""
    if len(texts) != len(labels):
        raise TrainingDataError(f"there are {len(texts)} texts but {len(labels)} labels; give one label per text")
    counts = Counter(labels.tolist())
    if "" in counts:
        raise TrainingDataError(f"{counts['']} examples have an empty label; drop them or label them")
    if len(counts) < 2:
        found = f"only the label {next(iter(counts))!r}" if counts else "no examples"
        raise TrainingDataError(f"a classifier needs at least 2 distinct labels and the data has {found}")
    rare = sorted(label for label, count in counts.items() if count < 2)
    if rare:
        shown = ", ".join(repr(label) for label in rare[:5]) + (f" and {len(rare) - 5} more" if len(rare) > 5 else "")
        raise TrainingDataError(
            f"every label needs at least 2 examples and {shown} {'has' if len(rare) == 1 else 'have'} only 1; "
            "add examples or merge those labels"
        )
    return min(CALIBRATION_FOLDS, min(counts.values()))


def _svm_logits(decision: np.ndarray) -> np.ndarray:
    """Per-label scores; a binary SVM's single column d becomes (-d/2, d/2)."""
    if decision.ndim == 1 or decision.shape[1] == 1:
        column = decision.reshape(-1) / 2.0
        return np.column_stack([-column, column])
    return decision
