"""The local trained classifier: TF-IDF word and character n-grams → linear SVM, temperature-calibrated.

Training fits one pipeline (word 1-2 grams + ``char_wb`` 2-5 grams, sublinear tf → ``LinearSVC``).
Probabilities come from temperature scaling: a softmax over the SVM's decision values with one
inverse temperature fitted on out-of-fold decision values (stratified k-fold inside the training
data, k = 3 or fewer for tiny classes). Scaling by one positive number never changes the ranking,
so the calibrated model predicts exactly what the SVM trained on all rows predicts, and the
out-of-fold predictions double as an honest accuracy estimate stored in the metadata.

A model file is a joblib dict ``{format, format_version, pipeline, calibration, meta}``. Loading
unpickles it, so only load model files you (or your own ``frontline train``) wrote.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from joblib import Parallel, delayed
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from frontline import private
from frontline.errors import ModelFormatError, ModelNotFoundError, TrainingDataError

MODEL_FORMAT = "frontline.trained-model"
MODEL_FORMAT_VERSION = 1
# Long tickets are read from the start only: the intent is nearly always stated early, and a
# pasted log would otherwise dominate both the time and the features.
DEFAULT_MAX_CHARS = 3000
CALIBRATION_FOLDS = 3
SVM_C = 0.7
# Caps keep the model file and its memory bounded on large corpora (banking77 stays well below).
MAX_WORD_FEATURES = 60_000
MAX_CHAR_FEATURES = 120_000
# Below this many rows every n-gram is kept; above it, character n-grams seen once are noise.
CHAR_MIN_DF_ROWS = 500
# Distinct words whose character n-gram columns are remembered between calls (about 40 MB at most).
WORD_CACHE_SIZE = 200_000


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
        )


class TrainedModel:
    """A fitted text classifier with calibrated probabilities; build with :meth:`train` or :meth:`load`."""

    def __init__(self, pipeline: Pipeline, beta: float, meta: ModelMeta) -> None:
        features: FeatureUnion = pipeline.named_steps["features"]
        classifier: LinearSVC = pipeline.named_steps["classifier"]
        # One float32 copy of the weights, feature-major for fast row gathers; the classifier keeps a
        # transposed view of it so the pickled pipeline and the fast path share the same memory.
        self._coef = np.ascontiguousarray(np.asarray(classifier.coef_, dtype=np.float32).T)
        classifier.coef_ = self._coef.T
        self._intercept = np.asarray(classifier.intercept_, dtype=np.float32)
        self._pipeline = pipeline
        self._blocks = _compile(features)
        if self._blocks[-1].stop != self._coef.shape[0]:
            raise ValueError("the features and the classifier disagree on the number of features")
        self._beta = float(beta)
        self._labels = [str(label) for label in classifier.classes_]
        self.meta = meta

    @property
    def labels(self) -> list[str]:
        """The labels this model can predict, in the column order of :meth:`predict_proba`."""
        return list(self._labels)

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], *, source: str = "",
              max_chars: int = DEFAULT_MAX_CHARS) -> TrainedModel:
        """Fit the pipeline and its calibration on labelled texts (raises TrainingDataError)."""
        texts_list = _clip(texts, max_chars)
        y = np.asarray([str(label) for label in labels], dtype=object)
        folds = _check_training_data(texts_list, y)
        pipeline = Pipeline([("features", _features(len(texts_list))), ("classifier", LinearSVC(C=SVM_C))])
        features: FeatureUnion = pipeline.named_steps["features"]
        try:
            matrix = features.fit_transform(texts_list)
        except ValueError as exc:  # sklearn: "empty vocabulary; perhaps the documents only contain stop words"
            raise TrainingDataError(f"the texts hold no usable words or characters ({exc})") from None
        classifier: LinearSVC = pipeline.named_steps["classifier"]
        oof = _fit_with_out_of_fold(classifier, matrix, y, folds)
        classes = [str(label) for label in classifier.classes_]
        index = {label: i for i, label in enumerate(classes)}
        gold = np.fromiter((index[label] for label in y), dtype=np.intp, count=len(y))
        logits = _logits(np.asarray(oof, dtype=np.float64))
        beta = _fit_inverse_temperature(logits, gold)
        probabilities = _softmax(beta * logits)
        train_scores = _logits(np.asarray(classifier.decision_function(matrix), dtype=np.float64))
        scores = {
            "cv_accuracy": float(np.mean(logits.argmax(axis=1) == gold)),
            "cv_log_loss": float(-np.mean(np.log(np.clip(probabilities[np.arange(len(gold)), gold], 1e-12, 1.0)))),
            "cv_folds": float(folds),
            "train_accuracy": float(np.mean(train_scores.argmax(axis=1) == gold)),
        }
        meta = ModelMeta(
            labels=tuple(classes),
            training_size=len(texts_list),
            trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
            sklearn_version=sklearn.__version__,
            format_version=MODEL_FORMAT_VERSION,
            source=source,
            max_chars=max_chars,
            calibration=f"temperature scaling on {folds}-fold out-of-fold decision values",
            scores=scores,
        )
        return cls(pipeline, beta, meta)

    def predict_proba(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Label order and an (n_texts, n_labels) matrix of calibrated probabilities (rows sum to 1)."""
        if len(texts) == 0:
            return self.labels, np.zeros((0, len(self._labels)), dtype=np.float64)
        decision = self._decision(_clip(texts, self.meta.max_chars))
        return self.labels, _softmax(self._beta * _logits(decision))

    def _decision(self, texts: list[str], features: list[sparse.csr_matrix] | None = None) -> np.ndarray:
        matrices = features if features is not None else self.features(texts)
        decision = np.zeros((len(texts), self._coef.shape[1]), dtype=np.float32)
        for block, matrix in zip(self._blocks, matrices, strict=True):
            decision += matrix @ self._coef[block.start:block.stop]
        result: np.ndarray = (decision + self._intercept).astype(np.float64)
        return result

    def features(self, texts: Sequence[str]) -> list[sparse.csr_matrix]:
        """The TF-IDF rows of each feature block (clipped like predictions are)."""
        clipped = _clip(texts, self.meta.max_chars)
        return [block.transform(clipped) for block in self._blocks]

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

    def predict_features(self, features: list[sparse.csr_matrix]) -> list[tuple[str, float]]:
        """Predictions from :meth:`features` of a model that :meth:`shares_features_with` this one."""
        rows = features[0].shape[0]
        if rows == 0:
            return []
        probabilities = _softmax(self._beta * _logits(self._decision([""] * rows, features)))
        return self._best(probabilities)

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """The most probable label of each text with its probability."""
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
        target = Path(path)
        private.folder(target.parent)  # mkstemp below makes the file 0600
        payload = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "pipeline": self._pipeline,
            "calibration": {"method": "temperature", "beta": self._beta},
            "meta": self.meta.to_dict(),
        }
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                joblib.dump(payload, handle, compress=3)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainedModel:
        """Read a model saved by :meth:`save` (ModelNotFoundError / ModelFormatError on failure)."""
        source = Path(path)
        if not source.exists():
            raise ModelNotFoundError(str(source))
        try:
            with warnings.catch_warnings():
                # A scikit-learn version change warns on unpickling; the probe below decides instead.
                warnings.simplefilter("ignore")
                payload = joblib.load(source)
        except (OSError, MemoryError) as exc:
            raise ModelFormatError(str(source), f"it cannot be read: {exc}") from None
        except Exception as exc:  # unpickling corrupt bytes raises nearly anything
            raise ModelFormatError(str(source), f"it is not a frontline model file ({type(exc).__name__})") from None
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
            pipeline = payload["pipeline"]
            if not isinstance(pipeline, Pipeline):
                raise TypeError("pipeline is not a scikit-learn Pipeline")
            model = cls(pipeline, beta, meta)
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


def _fit_with_out_of_fold(classifier: LinearSVC, matrix: sparse.csr_matrix, y: np.ndarray, folds: int) -> np.ndarray:
    """Fit ``classifier`` on everything and, alongside, k fold models for out-of-fold decision values.

    liblinear releases the GIL, so the k + 1 fits run on threads, one per core.
    """
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    splits = list(splitter.split(np.zeros(len(y)), y))

    def fold(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        model = LinearSVC(C=SVM_C).fit(matrix[train], y[train])
        if list(model.classes_) != sorted(set(y.tolist())):
            raise TrainingDataError("a calibration fold lacks a label; add examples to the rarest labels")
        return test, np.asarray(model.decision_function(matrix[test]), dtype=np.float64)

    jobs = [delayed(classifier.fit)(matrix, y)] + [delayed(fold)(train, test) for train, test in splits]
    results = Parallel(n_jobs=min(len(jobs), os.cpu_count() or 1), prefer="threads")(jobs)
    first = results[1][1]
    oof = np.zeros((len(y), *first.shape[1:]), dtype=np.float64)
    for test, values in results[1:]:
        oof[test] = values
    return oof


def _clip(texts: Sequence[str], max_chars: int) -> list[str]:
    return [text[:max_chars] if len(text) > max_chars else text for text in texts]


class _Block:
    """A fitted TfidfVectorizer replayed without scikit-learn's per-call validation overhead.

    ``TfidfVectorizer.transform`` spends about 0.5 ms per call on input checks, which dominates
    single-ticket latency; this does the same arithmetic (count, 1 + log tf, idf, l2) directly and
    is checked against scikit-learn in the tests. Character n-grams never cross a word (``char_wb``),
    so each distinct word's vocabulary columns are computed once and remembered: ticket text is
    Zipfian, and most words of a new ticket were seen in earlier ones.
    """

    def __init__(self, vectorizer: TfidfVectorizer, start: int) -> None:
        if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2" and not vectorizer.binary):
            raise ValueError("unsupported vectorizer settings")
        self.analyze = vectorizer.build_analyzer()
        self.signature: tuple[Any, ...] = (vectorizer.analyzer, vectorizer.ngram_range, vectorizer.lowercase,
                                           vectorizer.token_pattern, vectorizer.strip_accents)
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float32)
        self.start = start
        self.stop = start + len(self.idf)
        self._by_word = (
            vectorizer.analyzer == "char_wb" and vectorizer.lowercase and vectorizer.strip_accents is None
            and vectorizer.preprocessor is None
        )
        self._ngram_range: tuple[int, int] = vectorizer.ngram_range
        self._word_columns: dict[str, tuple[int, ...]] = {}

    def _columns_of(self, word: str) -> tuple[int, ...]:
        """The vocabulary columns of one word's ``char_wb`` n-grams, as scikit-learn generates them."""
        found = self._word_columns.get(word)
        if found is not None:
            return found
        lookup = self.vocabulary.get
        padded = f" {word} "
        length = len(padded)
        columns: list[int] = []
        for n in range(self._ngram_range[0], self._ngram_range[1] + 1):
            if n >= length:  # a short word counts once, whole, as in scikit-learn
                column = lookup(padded)
                if column is not None:
                    columns.append(column)
                break
            for i in range(length - n + 1):
                column = lookup(padded[i:i + n])
                if column is not None:
                    columns.append(column)
        result = tuple(columns)
        if len(self._word_columns) >= WORD_CACHE_SIZE:
            self._word_columns.clear()  # bounded memory; the frequent words come back at once
        self._word_columns[word] = result
        return result

    def _counts(self, text: str) -> Counter[int]:
        if self._by_word:
            columns: list[int] = []
            for word in text.lower().split():
                columns.extend(self._columns_of(word))
            return Counter(columns)
        lookup = self.vocabulary.get
        grams = Counter(self.analyze(text))
        return Counter({column: count for gram, count in grams.items() if (column := lookup(gram)) is not None})

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        """The l2-normalised sublinear TF-IDF rows of ``texts``."""
        indices: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for text in texts:
            found = self._counts(text)
            indices.extend(found.keys())
            counts.extend(found.values())
            indptr.append(len(indices))
        columns = np.asarray(indices, dtype=np.int32)
        data = np.log(np.asarray(counts, dtype=np.float32)) + np.float32(1.0)
        data *= self.idf[columns]
        bounds = np.asarray(indptr, dtype=np.int64)
        lengths = bounds[1:] - bounds[:-1]
        rows = np.repeat(np.arange(len(texts)), lengths)
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(texts))).astype(np.float32)
        norms[norms == 0] = 1.0  # a text with no known n-gram stays an all-zero row
        data /= norms[rows]
        return sparse.csr_matrix((data, columns, indptr), shape=(len(texts), len(self.idf)))


def _compile(features: FeatureUnion) -> list[_Block]:
    blocks: list[_Block] = []
    start = 0
    for _, vectorizer in features.transformer_list:
        if not isinstance(vectorizer, TfidfVectorizer):
            raise TypeError(f"unsupported feature step {type(vectorizer).__name__}")
        blocks.append(_Block(vectorizer, start))
        start = blocks[-1].stop
    if not blocks:
        raise ValueError("the pipeline has no feature steps")
    return blocks


def _features(n_rows: int) -> FeatureUnion:
    char_min_df = 2 if n_rows >= CHAR_MIN_DF_ROWS else 1
    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b",
                                  max_features=MAX_WORD_FEATURES, dtype=np.float32)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                  min_df=char_min_df, max_features=MAX_CHAR_FEATURES, dtype=np.float32)),
    ])


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


def _logits(decision: np.ndarray) -> np.ndarray:
    """Per-class scores; a binary SVM's single column d becomes (-d/2, d/2)."""
    if decision.ndim == 1 or decision.shape[1] == 1:
        column = decision.reshape(-1) / 2.0
        return np.column_stack([-column, column])
    return decision


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return result


def _fit_inverse_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The beta minimising the log loss of softmax(beta * logits) on out-of-fold predictions."""
    rows = np.arange(len(gold))

    def log_loss(log_beta: float) -> float:
        scaled = np.exp(log_beta) * logits
        top = scaled.max(axis=1)
        log_norm = top + np.log(np.exp(scaled - top[:, None]).sum(axis=1))
        return float(np.mean(log_norm - scaled[rows, gold]))

    result = minimize_scalar(log_loss, bounds=(-4.0, 6.0), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(result.x))
