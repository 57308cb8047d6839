"""The learned escalation signal: a model of "this message needs escalating", trained on your own history.

Keywords and the sentiment lexicon read every team's messages the same way. A team that has
labelled past messages (escalated or not, complaint or not) can teach frontline what escalation
looks like for its customers: ``frontline train --escalation --data FILE.csv …`` fits this model
and saves it in the workspace, where the escalation signals pick it up as the ``learned`` signal.

What it reads, per message (see :func:`_dense` and :func:`_sparse`):

* word 1-2-grams and ``char_wb`` 1-4-grams of the normalised text (handles and links folded);
* the sentiment model's inputs (VADER's tone and each support cue) and its negativity;
* whether a configured escalation keyword fires;
* a sentence embedding, when an encoder is available (all-MiniLM-L6-v2 in the base install; see
  :mod:`frontline.decide.embeddings`).

One class-balanced logistic regression over all of it gives a probability. With an encoder that can
be fine-tuned (the ``frontline[embeddings]`` extra brings PyTorch for it), the encoder is also
fine-tuned on the same messages (see :mod:`frontline.decide.finetune`) and the model's probability
is the mean of the two: the linear model's and the tuned encoder's. The classes are
weighted to balance, so the signal fires at probability 0.5 unless
``escalation.signals.learned.at_least`` says otherwise. Out-of-fold predictions (k-fold inside the
training data) give the precision, recall and F1 recorded in the model's metadata, an honest
estimate since no row is scored by a model fitted on it, and the threshold that would have
maximised F1 on those folds, as a hint for ``at_least`` (choosing it on the same folds flatters it).

A model file is a joblib dict ``{format, format_version, vectorizers, coef, intercept, meta}``;
loading unpickles it, so only load files you (or your own ``frontline train``) wrote.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from frontline.decide import OnProgress, modelfile, progress_or_silent, sentiment
from frontline.decide.embeddings import AUTO, BUNDLED, EmbeddingsUnavailableError, Encoder, load_encoder
from frontline.decide.finetune import Recipe, TunedEncoder
from frontline.decide.keywords import KeywordSpotter
from frontline.decide.ngrams import normalise
from frontline.errors import ModelFormatError, TrainingDataError

MODEL_FORMAT = "frontline.escalation-model"
MODEL_FORMAT_VERSION = 1
MAX_CHARS = 2000
FOLDS = 5
C = 3.0
DEFAULT_THRESHOLD = 0.5
MIN_EXAMPLES = 20
MIN_PER_CLASS = 5
# The firing probability is chosen on this grid (a coarse grid keeps the choice from chasing noise).
THRESHOLDS = tuple(round(0.2 + 0.02 * step, 2) for step in range(31))  # 0.20 … 0.80
_SENTIMENT_NAMES = tuple(sorted(sentiment.WEIGHTS))
_HANDLE = re.compile(r"@\w+")
_LINK = re.compile(r"https?://\S+|www\.\S+")

Spotter = Callable[[str], bool]


@dataclass(frozen=True)
class LearnedMeta:
    """What a learned escalation model records about itself."""

    training_size: int
    positives: int
    trained_at: str
    sklearn_version: str
    source: str
    embeddings: str | None  # the encoder's name, or None when trained without one
    threshold: float
    keywords: tuple[str, ...]
    ignore: tuple[str, ...]
    scores: Mapping[str, float] = field(default_factory=dict)
    finetuned: bool = False  # the encoder was fine-tuned too (its probability is averaged in)
    source_sha256: str = ""  # the training file's SHA-256 ("" when saved before it was recorded)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable values."""
        data = asdict(self)
        data.update(keywords=list(self.keywords), ignore=list(self.ignore), scores=dict(self.scores))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnedMeta:
        """Rebuild metadata saved by :meth:`to_dict` (KeyError/TypeError/ValueError when malformed)."""
        embeddings = data["embeddings"]
        return cls(training_size=int(data["training_size"]), positives=int(data["positives"]),
                   trained_at=str(data["trained_at"]), sklearn_version=str(data["sklearn_version"]),
                   source=str(data["source"]), embeddings=None if embeddings is None else str(embeddings),
                   threshold=float(data["threshold"]), keywords=tuple(str(w) for w in data["keywords"]),
                   ignore=tuple(str(w) for w in data["ignore"]),
                   scores={str(k): float(v) for k, v in dict(data["scores"]).items()},
                   finetuned=bool(data.get("finetuned", False)),
                   source_sha256=str(data.get("source_sha256", "")))

    def describe(self) -> str:
        """``trained on 2,759 labelled messages (cross-validated F1 0.80)``."""
        f1 = self.scores.get("cv_f1")
        if f1 is None:
            shown = ""
        elif self.finetuned:  # the folds validate the linear part; `eval --cv` validates the whole
            shown = f" (linear part cross-validated F1 {f1:.2f}, with a fine-tuned encoder)"
        else:
            shown = f" (cross-validated F1 {f1:.2f})"
        return f"trained on {self.training_size:,} labelled messages{shown}"


def _clean(text: str) -> str:
    return _LINK.sub(" http ", _HANDLE.sub(" @user ", normalise(text[:MAX_CHARS])))


def _vectorizers() -> list[TfidfVectorizer]:
    return [TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=2, dtype=np.float32)]


def _dense(texts: Sequence[str], spotter: Spotter, encoder: Encoder | None) -> np.ndarray:
    """Sentiment inputs, negativity and the keyword flag per text, then the embedding when there is one."""
    model = sentiment.SentimentModel()
    rows = []
    for text in texts:
        values = sentiment.features(text) if text.strip() else {}
        negativity = model.score(values) if sentiment.readable(text) else 0.0  # as model.read, reading once
        rows.append([values.get(name, 0.0) for name in _SENTIMENT_NAMES]
                    + [negativity, 1.0 if spotter(text) else 0.0])
    dense = np.asarray(rows, dtype=np.float32).reshape(len(texts), len(_SENTIMENT_NAMES) + 2)
    if encoder is not None:
        dense = np.hstack([dense, encoder.encode([text[:MAX_CHARS] for text in texts])])
    return dense


def _sparse(vectorizers: Sequence[TfidfVectorizer], cleaned: Sequence[str], dense: np.ndarray, *,
            fit: bool) -> sparse.csr_matrix:
    blocks = [v.fit_transform(cleaned) if fit else v.transform(cleaned) for v in vectorizers]
    return sparse.hstack([*blocks, sparse.csr_matrix(dense)], format="csr", dtype=np.float32)


def _fit(matrix: sparse.csr_matrix, gold: np.ndarray) -> LogisticRegression:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs convergence chatter on tiny sets
        return LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(matrix, gold)


def spotter_for(words: Sequence[str], ignore: Sequence[str]) -> Spotter:
    """``text → bool``: whether one of ``words`` really fires in the text (see decide.keywords)."""
    keyword_spotter = KeywordSpotter(tuple(words), tuple(ignore))
    return lambda text: bool(keyword_spotter.find(text))


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Out-of-fold probabilities, their scores at the default threshold, and the F1-best threshold."""

    probabilities: np.ndarray
    precision: float
    recall: float
    f1: float
    best_threshold: float
    best_f1: float


def scores_at(probabilities: np.ndarray, gold: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """``(precision, recall, f1)`` of flagging the probabilities at or above ``threshold``."""
    flagged = probabilities >= threshold
    tp = int(np.sum(flagged & gold))
    precision = tp / int(flagged.sum()) if flagged.any() else 0.0
    recall = tp / int(gold.sum()) if gold.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def best_threshold(probabilities: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """``(threshold, f1)`` with the best F1 on the grid (the lower threshold on ties)."""
    best = (DEFAULT_THRESHOLD, -1.0)
    for threshold in THRESHOLDS:
        f1 = scores_at(probabilities, gold, threshold)[2]
        if f1 > best[1] + 1e-9:
            best = (threshold, f1)
    return best


def _check(texts: Sequence[str], gold: Sequence[bool]) -> np.ndarray:
    if len(texts) != len(gold):
        raise TrainingDataError(f"{len(texts)} texts but {len(gold)} labels")
    y = np.asarray([bool(g) for g in gold], dtype=bool)
    positives = int(y.sum())
    if len(y) < MIN_EXAMPLES:
        raise TrainingDataError(f"{len(y)} labelled messages is too few; give at least {MIN_EXAMPLES}")
    if min(positives, len(y) - positives) < MIN_PER_CLASS:
        raise TrainingDataError(f"{positives} of {len(y)} messages are labelled as escalations; each side needs at "
                                f"least {MIN_PER_CLASS} examples")
    return y


class EscalationModel:
    """A fitted escalation detector; build with :meth:`train` or :meth:`load`."""

    def __init__(self, vectorizers: Sequence[TfidfVectorizer], coef: np.ndarray, intercept: float,
                 meta: LearnedMeta, encoder: Encoder | None, tuned: TunedEncoder | None = None) -> None:
        self._tuned = tuned
        self._vectorizers = list(vectorizers)
        self._coef = np.asarray(coef, dtype=np.float32).ravel()
        self._intercept = float(intercept)
        self.meta = meta
        self._encoder = encoder
        self._spotter = spotter_for(meta.keywords, meta.ignore)
        expected = sum(len(v.vocabulary_) for v in self._vectorizers) + len(_SENTIMENT_NAMES) + 2 + (
            encoder.dimension if encoder is not None else 0)
        if self._coef.shape[0] != expected:
            raise ValueError(f"the model has {self._coef.shape[0]} weights for {expected} features")

    @property
    def threshold(self) -> float:
        """The probability at or above which a message reads as an escalation (unless configured otherwise)."""
        return self.meta.threshold

    @classmethod
    def train(cls, texts: Sequence[str], gold: Sequence[bool], *, keywords: Sequence[str] = (),
              ignore: Sequence[str] = (), embeddings: str = "auto", finetune: bool = True, source: str = "",
              source_sha256: str = "", folds: int = FOLDS, seed: int = 0,
              recipe: Recipe | None = None, on_progress: OnProgress | None = None) -> EscalationModel:
        """Fit on labelled messages (``gold[i]``: ``texts[i]`` needed escalating); raises TrainingDataError.

        With an encoder and ``finetune``, the encoder is fine-tuned on the messages too. The
        ``folds`` cross-validate the linear part only (fine-tuning k more times would take minutes);
        ``cross_validate`` (``frontline eval --cv``) validates the whole model. ``on_progress``
        hears of each fold and of the fine-tuning.
        """
        y = _check(texts, gold)
        encoder = load_encoder(embeddings)
        spotter = spotter_for(keywords, ignore)
        cleaned = [_clean(text) for text in texts]
        dense = _dense(texts, spotter, encoder)
        validation = cross_validate_features(cleaned, dense, y, folds=folds, seed=seed, on_progress=on_progress)
        vectorizers = _vectorizers()
        try:
            matrix = _sparse(vectorizers, cleaned, dense, fit=True)
        except ValueError as exc:  # empty vocabulary
            raise TrainingDataError(f"the messages hold no usable words ({exc})") from None
        fitted = _fit(matrix, y)
        tuned = None
        if finetune and getattr(encoder, "where", None) is not None:
            progress_or_silent(on_progress)("fine-tuning the sentence encoder", 0, 1)
            tuned = _tune(encoder, texts, y, recipe or Recipe(seed=seed))
            progress_or_silent(on_progress)("fine-tuned the sentence encoder", 1, 1)
        meta = LearnedMeta(
            training_size=len(y), positives=int(y.sum()), trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
            sklearn_version=sklearn.__version__, source=source,
            embeddings=encoder.name if encoder is not None else None, threshold=DEFAULT_THRESHOLD,
            keywords=tuple(keywords), ignore=tuple(ignore),
            scores={"cv_precision": validation.precision, "cv_recall": validation.recall, "cv_f1": validation.f1,
                    "cv_folds": float(folds), "cv_best_threshold": validation.best_threshold,
                    "cv_best_f1": validation.best_f1},
            finetuned=tuned is not None, source_sha256=source_sha256)
        return cls(vectorizers, fitted.coef_[0], float(fitted.intercept_[0]), meta, encoder, tuned)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """The probability that each message needs escalating."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        matrix = _sparse(self._vectorizers, [_clean(t) for t in texts], _dense(texts, self._spotter, self._encoder),
                         fit=False)
        logits = matrix @ self._coef + self._intercept
        linear = np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float64)
        if self._tuned is None:
            return linear
        tuned = self._tuned.predict_proba([text[:MAX_CHARS] for text in texts])
        return np.asarray((linear + tuned) / 2, dtype=np.float64)

    # -- files -----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to one file atomically (temporary file in the same folder, then rename)."""
        payload = {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION, "vectorizers": self._vectorizers,
                   "coef": self._coef, "intercept": self._intercept, "meta": self.meta.to_dict(),
                   "tuned": self._tuned.state() if self._tuned is not None else None}
        modelfile.save(payload, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EscalationModel:
        """Read a model saved by :meth:`save`, with its encoder (ModelNotFoundError / ModelFormatError)."""
        source = Path(path)
        payload = modelfile.load(source)
        if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
            raise ModelFormatError(str(source), "it is not a frontline escalation model "
                                                "(train one with `frontline train --escalation`)")
        if payload.get("format_version") != MODEL_FORMAT_VERSION:
            raise ModelFormatError(str(source), f"it has escalation-model format {payload.get('format_version')!r}, "
                                                f"this frontline reads format {MODEL_FORMAT_VERSION}")
        try:
            meta = LearnedMeta.from_dict(payload["meta"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(str(source), f"its metadata is malformed ({exc})") from None
        # The encoder it was trained with, by name ("auto" is how the bundled one is found).
        encoder = None if meta.embeddings is None else load_encoder(
            AUTO if meta.embeddings == BUNDLED else meta.embeddings)
        if meta.embeddings is not None and encoder is None:
            raise EmbeddingsUnavailableError(
                f"the escalation model {source} was trained with sentence embeddings ({meta.embeddings}); install "
                "them with pip install 'frontline[embeddings]', or retrain with --embeddings off")
        tuned = None
        if payload.get("tuned") is not None:
            where = getattr(encoder, "where", None)
            if where is None:
                raise ModelFormatError(str(source), "its fine-tuned encoder needs the PyTorch sentence encoder it "
                                                    f"started from ({meta.embeddings}): install it with pip install "
                                                    "'frontline[embeddings]'")
            try:
                tuned = TunedEncoder.from_state(payload["tuned"], where)
            except Exception as exc:  # a state that does not fit the base model's shapes
                raise ModelFormatError(str(source), f"its fine-tuned encoder does not fit {meta.embeddings} "
                                                    f"({type(exc).__name__})") from None
        try:
            model = cls(payload["vectorizers"], np.asarray(payload["coef"]), float(payload["intercept"]), meta,
                        encoder, tuned)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.predict_proba(["model probe"])
        except Exception as exc:
            hint = "" if meta.sklearn_version == sklearn.__version__ else (
                f"; it was trained with scikit-learn {meta.sklearn_version}, this is {sklearn.__version__}")
            raise ModelFormatError(str(source), f"it does not run here ({type(exc).__name__}{hint})") from None
        return model


def _tune(encoder: Encoder | None, texts: Sequence[str], gold: np.ndarray, recipe: Recipe) -> TunedEncoder | None:
    """The encoder fine-tuned on the messages, or None when there is no encoder to tune."""
    where = getattr(encoder, "where", None)
    if encoder is None or where is None:
        return None
    return TunedEncoder.train([text[:MAX_CHARS] for text in texts], gold.tolist(), base=encoder.name, where=where,
                              recipe=recipe)


Tuner = Callable[[np.ndarray, np.ndarray], np.ndarray]


def cross_validate_features(cleaned: Sequence[str], dense: np.ndarray, gold: np.ndarray, *, folds: int = FOLDS,
                            seed: int = 0, tuner: Tuner | None = None,
                            on_progress: OnProgress | None = None) -> CrossValidation:
    """Out-of-fold probabilities (each fold scored by a model fitted on the others) and the F1-best threshold.

    ``on_progress`` hears of each fold as it ends, with the F1 (at the default threshold) of the
    rows scored so far.
    """
    splits = min(folds, int(gold.sum()), int((~gold).sum()))
    if splits < 2:
        raise TrainingDataError("each side needs at least two examples to cross-validate")
    tell = progress_or_silent(on_progress)
    probabilities = np.zeros(len(gold), dtype=np.float64)
    scored = np.zeros(len(gold), dtype=bool)
    folds_split = StratifiedKFold(splits, shuffle=True, random_state=seed).split(dense, gold)
    for fold, (train_rows, test_rows) in enumerate(folds_split, start=1):
        if tuner is not None:  # minutes per fold: say what is happening before it starts
            tell(f"fold {fold} of {splits}: fine-tuning the sentence encoder", fold - 1, splits)
        vectorizers = _vectorizers()
        try:
            train = _sparse(vectorizers, [cleaned[i] for i in train_rows], dense[train_rows], fit=True)
        except ValueError as exc:
            raise TrainingDataError(f"the messages hold no usable words ({exc})") from None
        test = _sparse(vectorizers, [cleaned[i] for i in test_rows], dense[test_rows], fit=False)
        probabilities[test_rows] = _fit(train, gold[train_rows]).predict_proba(test)[:, 1]
        if tuner is not None:  # the whole model: the linear part's and the tuned encoder's mean
            probabilities[test_rows] = (probabilities[test_rows] + tuner(train_rows, test_rows)) / 2
        scored[test_rows] = True
        so_far = scores_at(probabilities[scored], gold[scored], DEFAULT_THRESHOLD)[2]
        tell(f"fold {fold} of {splits} done (F1 so far {so_far:.3f})", fold, splits)
    precision, recall, f1 = scores_at(probabilities, gold, DEFAULT_THRESHOLD)
    return CrossValidation(probabilities, precision, recall, f1, *best_threshold(probabilities, gold))


def cross_validate(texts: Sequence[str], gold: Sequence[bool], *, keywords: Sequence[str] = (),
                   ignore: Sequence[str] = (), embeddings: str = "auto", finetune: bool = True, folds: int = FOLDS,
                   seed: int = 0, recipe: Recipe | None = None,
                   on_progress: OnProgress | None = None) -> CrossValidation:
    """Out-of-fold probabilities of the whole learned model on labelled messages (``frontline eval --cv``).

    Each fold is scored by a model fitted on the others, the encoder fine-tuned again each time
    when it would be in training (k fine-tunings: minutes on a CPU for a few thousand messages);
    ``on_progress`` hears of each fold.
    """
    y = _check(texts, gold)
    encoder = load_encoder(embeddings)
    spotter = spotter_for(keywords, ignore)
    tuner: Tuner | None = None
    if finetune and getattr(encoder, "where", None) is not None:
        chosen = recipe or Recipe(seed=seed)

        def tuner(train_rows: np.ndarray, test_rows: np.ndarray) -> np.ndarray:
            tuned = _tune(encoder, [texts[i] for i in train_rows], y[train_rows], chosen)
            assert tuned is not None
            return tuned.predict_proba([texts[i][:MAX_CHARS] for i in test_rows])

    progress_or_silent(on_progress)(f"reading {len(texts):,} messages", 0, folds)
    return cross_validate_features([_clean(t) for t in texts], _dense(texts, spotter, encoder), y, folds=folds,
                                   seed=seed, tuner=tuner, on_progress=on_progress)
