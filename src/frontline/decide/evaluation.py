"""Scores a classifier's predictions against gold labels: the numbers `frontline eval` prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


@dataclass(frozen=True)
class ClassScores:
    """Precision, recall and F1 of one label."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvaluationReport:
    """Accuracy, macro-F1, per-class scores, confusions and coverage at confidence thresholds."""

    n: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScores]
    confusions: list[tuple[str, str, int]]
    thresholds: list[tuple[float, float, float | None]]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable values (the `--json` output)."""
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "per_class": {
                label: {"precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support}
                for label, s in self.per_class.items()
            },
            "confusions": [{"gold": g, "predicted": p, "count": c} for g, p, c in self.confusions],
            "thresholds": [
                {"threshold": t, "coverage": cov, "accuracy": acc} for t, cov, acc in self.thresholds
            ],
        }


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def evaluate(predictions: Sequence[tuple[str, float]], gold: Sequence[str],
             thresholds: Sequence[float] = THRESHOLDS) -> EvaluationReport:
    """Compare ``(label, confidence)`` predictions with ``gold`` labels, position by position."""
    if len(predictions) != len(gold):
        raise ValueError(f"{len(predictions)} predictions for {len(gold)} gold labels")
    n = len(gold)
    predicted = [label for label, _ in predictions]
    right = [p == g for p, g in zip(predicted, gold, strict=True)]
    true_pos: Counter[str] = Counter(g for g, ok in zip(gold, right, strict=True) if ok)
    gold_count: Counter[str] = Counter(gold)
    predicted_count: Counter[str] = Counter(predicted)
    per_class: dict[str, ClassScores] = {}
    # Macro-F1 averages over the gold labels: a label only ever predicted wrongly still costs
    # precision on the labels it was confused with, as in scikit-learn's `labels=gold` convention.
    for label in sorted(gold_count):
        precision = _ratio(true_pos[label], predicted_count[label])
        recall = _ratio(true_pos[label], gold_count[label])
        f1 = _ratio(2 * precision * recall, precision + recall)
        per_class[label] = ClassScores(round(precision, 4), round(recall, 4), round(f1, 4), gold_count[label])
    confusions = Counter((g, p) for g, p, ok in zip(gold, predicted, right, strict=True) if not ok)
    rows: list[tuple[float, float, float | None]] = []
    for threshold in thresholds:
        covered = [ok for (_, confidence), ok in zip(predictions, right, strict=True) if confidence >= threshold]
        accuracy = round(_ratio(sum(covered), len(covered)), 4) if covered else None
        rows.append((threshold, round(_ratio(len(covered), n), 4), accuracy))
    macro = sum(s.f1 for s in per_class.values()) / len(per_class) if per_class else 0.0
    return EvaluationReport(
        n=n,
        accuracy=round(_ratio(sum(right), n), 4),
        macro_f1=round(macro, 4),
        per_class=per_class,
        confusions=[(g, p, c) for (g, p), c in confusions.most_common()],
        thresholds=rows,
    )


# -- labels the model was never taught (CLINC150's `oos`): what it sends to review -----------------
UNKNOWN_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class UnknownReport:
    """How a model treats examples whose gold label it does not know, at its abstain threshold and others.

    ``unknown_recall``: the share of those sent to review (confidence below the threshold).
    ``known_accuracy``: accuracy on the examples it knows and did not send to review (what is routed
    without a person). ``known_review``: the share of known examples sent to review all the same.
    """

    abstain: float
    unknown: int
    unknown_to_review: int
    known: int
    known_accuracy: float | None
    known_review: float
    review_rate: float
    unknown_labels: list[str]
    sweep: list[dict[str, float | None]]

    @property
    def unknown_recall(self) -> float:
        """The share of unknown-label examples sent to review."""
        return round(_ratio(self.unknown_to_review, self.unknown), 4)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable values (added to `eval --json`)."""
        return {"abstain": self.abstain, "unknown": self.unknown, "unknown_to_review": self.unknown_to_review,
                "unknown_recall": self.unknown_recall, "known": self.known, "known_accuracy": self.known_accuracy,
                "known_review": self.known_review, "review_rate": self.review_rate,
                "unknown_labels": self.unknown_labels, "unknown_sweep": self.sweep}


def _at(predictions: Sequence[tuple[str, float]], gold: Sequence[str], unknown: Sequence[bool],
        threshold: float) -> dict[str, float | None]:
    review = [confidence < threshold for _, confidence in predictions]
    kept = [label == g for (label, _), g, u, r in zip(predictions, gold, unknown, review, strict=True)
            if not u and not r]
    known = sum(1 for u in unknown if not u)
    return {
        "threshold": threshold,
        "unknown_recall": round(_ratio(sum(r for r, u in zip(review, unknown, strict=True) if u), sum(unknown)), 4),
        "known_accuracy": round(_ratio(sum(kept), len(kept)), 4) if kept else None,
        "known_review": round(_ratio(sum(r for r, u in zip(review, unknown, strict=True) if not u), known), 4),
        "review_rate": round(_ratio(sum(review), len(review)), 4),
    }


def unknown_report(predictions: Sequence[tuple[str, float]], gold: Sequence[str], known_labels: Sequence[str],
                   abstain: float, thresholds: Sequence[float] = UNKNOWN_THRESHOLDS) -> UnknownReport | None:
    """What the model sends to review among gold labels outside ``known_labels``; None when there are none."""
    if len(predictions) != len(gold):
        raise ValueError(f"{len(predictions)} predictions for {len(gold)} gold labels")
    taught = set(known_labels)
    unknown = [g not in taught for g in gold]
    if not any(unknown):
        return None
    point = _at(predictions, gold, unknown, abstain)
    to_review = sum(1 for (_, confidence), u in zip(predictions, unknown, strict=True) if u and confidence < abstain)
    return UnknownReport(
        abstain=abstain, unknown=sum(unknown), unknown_to_review=to_review, known=len(gold) - sum(unknown),
        known_accuracy=point["known_accuracy"], known_review=float(point["known_review"] or 0.0),
        review_rate=float(point["review_rate"] or 0.0),
        unknown_labels=sorted({g for g, u in zip(gold, unknown, strict=True) if u}),
        sweep=[_at(predictions, gold, unknown, t) for t in sorted({*thresholds, abstain})])
