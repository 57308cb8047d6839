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


def test_labels_the_model_never_saw_are_counted_by_what_went_to_review() -> None:
    from frontline.decide.evaluation import unknown_report

    gold = ["a", "a", "b", "oos", "oos", "oos"]
    predicted = [("a", 0.9), ("b", 0.5), ("b", 0.8), ("a", 0.2), ("b", 0.6), ("a", 0.4)]
    report = unknown_report(predicted, gold, ["a", "b"], abstain=0.45)
    assert report is not None
    assert (report.unknown, report.unknown_to_review, report.known) == (3, 2, 3)
    assert report.unknown_recall == pytest.approx(2 / 3, abs=1e-4)
    assert report.known_accuracy == pytest.approx(2 / 3, abs=1e-4)  # the wrong "b" at 0.5 is kept too
    assert report.known_review == 0.0 and report.review_rate == pytest.approx(2 / 6, abs=1e-4)
    row = {r["threshold"]: r for r in report.sweep}[0.7]
    assert row == {"threshold": 0.7, "unknown_recall": 1.0, "known_accuracy": 1.0,
                   "known_review": pytest.approx(1 / 3, abs=1e-4), "review_rate": pytest.approx(4 / 6, abs=1e-4)}
    assert report.to_dict()["unknown_labels"] == ["oos"]


def test_no_unknown_labels_no_unknown_report() -> None:
    from frontline.decide.evaluation import unknown_report

    assert unknown_report(PREDICTED, GOLD, ["a", "b", "c"], abstain=0.3) is None
