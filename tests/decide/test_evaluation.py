"""The evaluation report behind `frontline eval`."""

from __future__ import annotations

import pytest
from sklearn.metrics import f1_score

from frontline.decide.evaluation import evaluate

GOLD = ["a", "a", "a", "b", "b", "c"]
PREDICTED = [("a", 0.9), ("a", 0.8), ("b", 0.4), ("b", 0.7), ("a", 0.35), ("c", 0.95)]


def test_accuracy_and_per_class_scores_match_hand_counts() -> None:
    report = evaluate(PREDICTED, GOLD)
    assert report.n == 6 and report.accuracy == pytest.approx(4 / 6, abs=1e-4)
    a = report.per_class["a"]
    assert a.precision == pytest.approx(2 / 3, abs=1e-4) and a.recall == pytest.approx(2 / 3, abs=1e-4)
    assert a.support == 3
    expected = f1_score(GOLD, [p for p, _ in PREDICTED], average="macro")
    assert report.macro_f1 == pytest.approx(expected, abs=1e-4)


def test_confusions_are_counted_most_frequent_first() -> None:
    report = evaluate([("b", 0.5), ("b", 0.5), ("c", 0.5), ("a", 0.5)], ["a", "a", "a", "a"])
    assert report.confusions[0] == ("a", "b", 2)
    assert report.to_dict()["confusions"][1] == {"gold": "a", "predicted": "c", "count": 1}


def test_coverage_and_accuracy_at_each_threshold() -> None:
    rows = {t: (coverage, accuracy) for t, coverage, accuracy in evaluate(PREDICTED, GOLD).thresholds}
    assert rows[0.0] == (1.0, pytest.approx(4 / 6, abs=1e-4))
    assert rows[0.5] == (pytest.approx(4 / 6, abs=1e-4), 1.0)  # the confident answers are the right ones
    assert rows[0.95] == (pytest.approx(1 / 6, abs=1e-4), 1.0)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="2 predictions for 1"):
        evaluate([("a", 1.0), ("b", 1.0)], ["a"])
