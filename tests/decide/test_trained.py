"""The trained model: calibrated probabilities, a fast path equal to scikit-learn, safe files, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import joblib
import numpy as np
import pytest

from frontline.decide.ngrams import PAIR_WORDS, STEM_CHARS, normalise, word_pairs
from frontline.decide.stacking import fit_stacker
from frontline.decide.trained import TrainedModel
from frontline.errors import ModelFormatError, ModelNotFoundError, TrainingDataError

EXAMPLES = {
    "billing": ["I was charged twice this month", "Refund the duplicate charge on my invoice",
                "Why is my invoice higher than last month", "Update the credit card on file",
                "The payment failed but my card is fine", "Can I get a receipt for March",
                "Cancel my subscription and refund me", "VAT is missing from the invoice",
                "We were overcharged for seats", "Change billing email for invoices"],
    "account_issue": ["I forgot my password and cannot log in", "Locked out after too many attempts",
                      "Two-factor codes are not accepted", "How do I transfer account ownership",
                      "SSO login fails with an error from Okta", "Reset link expired before I used it",
                      "Add a new admin to our workspace", "Remove a user who left the company",
                      "My email changed, update my login", "Verification email never arrived"],
    "bug": ["The export crashes with an error", "Dashboard shows a blank page in Safari",
            "Sync is stuck at 50 percent", "The app freezes when I open a project",
            "Search returns a 500 error", "Attachments fail to upload since yesterday",
            "Notifications arrive twice for every comment", "The timer resets itself randomly",
            "Charts render with wrong dates", "Mobile app crashes on launch"],
}
TEXTS = [text for texts in EXAMPLES.values() for text in texts]
LABELS = [label for label, texts in EXAMPLES.items() for _ in texts]


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    """A model trained on the small examples above."""
    return TrainedModel.train(TEXTS, LABELS, source="tests")


def test_predictions_are_calibrated_probabilities(model: TrainedModel) -> None:
    labels, probabilities = model.predict_proba(["refund my double charge", "cannot log in, password reset"])
    assert sorted(labels) == sorted(EXAMPLES)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    predicted = model.predict(["refund my double charge", "cannot log in, password reset", "app crashes"])
    assert [label for label, _ in predicted] == ["billing", "account_issue", "bug"]
    assert all(0.0 < p <= 1.0 for _, p in predicted)


def test_metadata_records_labels_size_and_scores(model: TrainedModel) -> None:
    assert model.meta.training_size == len(TEXTS)
    assert set(model.meta.labels) == set(EXAMPLES)
    assert 0.0 <= model.meta.scores["cv_accuracy"] <= 1.0
    assert model.meta.source == "tests" and model.meta.trained_at


@pytest.mark.parametrize("texts", [
    TEXTS,
    ["", "   ", "a", "Ünïcödé  TEXT\twith\ttabs\u00a0and nbsp", "x" * 60, "İstanbul ǅ straße", "!!! ???"],
    [" ".join(TEXTS * 6), " ".join(reversed(" ".join(TEXTS * 3).split()))],  # past the 64 words pairs read
])
def test_fast_features_equal_scikit_learn(model: TrainedModel, texts: list[str]) -> None:
    union = model._features
    assert [name for name, _ in union.transformer_list] == ["words", "chars", "pairs"]
    for (_, vectorizer), block in zip(union.transformer_list, model._blocks, strict=True):
        expected = vectorizer.transform(texts).toarray()
        for _ in range(2):  # the second pass reads the word cache
            assert np.allclose(block.transform(texts).toarray(), expected, atol=1e-5)


def test_stem_pair_columns_come_in_column_order(model: TrainedModel) -> None:
    """Each row's pair columns are sorted: a set's order changes with the process's string hashing, and the
    order moves the last digits of the float sums, so two runs could decide a ticket at a threshold apart."""
    block = model._blocks[2]
    partners: dict[str, list[str]] = {}
    for gram in block.vocabulary:
        first, _, second = gram.partition(" ")
        partners.setdefault(first, []).append(second)
    known = {stem: frozenset(others) for stem, others in partners.items()}
    texts = [normalise(text) for text in [*TEXTS, " ".join(TEXTS * 6)]]
    expected: list[int] = []
    for text in texts:
        stems = {word[:STEM_CHARS] for word in re.findall(r"(?u)\b\w+\b", text)[:PAIR_WORDS]}
        expected += sorted(block.vocabulary[f"{stem} {other}"] for stem in stems if stem in known
                           for other in stems.intersection(known[stem]))
    assert block.transform(texts).indices.tolist() == expected


def test_prediction_features_are_the_normalised_clipped_text(model: TrainedModel) -> None:
    texts = ["I can't log in, it's been 3 days", "Refund £20 now!", "x" * 5000]
    prepared = [normalise(text[:model.meta.max_chars]) for text in texts]
    expected = model._features.transform(prepared).toarray()
    assert np.allclose(np.hstack([m.toarray() for m in model.features(texts)]), expected, atol=1e-5)


def test_normalise_expands_contractions_and_folds_digits_and_currency() -> None:
    assert normalise("I CAN'T pay $15, it won\u2019t work; they're sure I'd paid") == (
        "i can not pay  usd 00, it will not work; they are sure i would paid"
    )
    assert normalise("Don't") == "do not"


def test_word_pairs_are_unordered_stem_pairs() -> None:
    assert word_pairs("card arrived? the card arrival") == ["arri card", "arri the", "card the"]
    assert word_pairs("one") == []


def test_the_stacker_leans_on_each_labels_own_svm_score_when_data_is_scarce() -> None:
    scores = np.random.default_rng(0).normal(size=(6, 3))
    stacker, _ = fit_stacker(scores, scores.argmax(axis=1))
    assert np.array_equal(stacker.weights.argmax(axis=0), np.arange(3))  # penalised towards the identity
    assert np.abs(stacker.weights - np.eye(3)).max() < 0.5


def test_a_model_trained_on_the_same_texts_shares_features(model: TrainedModel) -> None:
    severity = TrainedModel.train(TEXTS, ["P1" if i % 2 else "P2" for i in range(len(TEXTS))])
    assert model.shares_features_with(severity)
    other = TrainedModel.train(TEXTS[:20], LABELS[:20])
    assert not model.shares_features_with(other)
    texts = ["refund please", "the app crashes"]
    assert severity.predict_features(model.features(texts)) == severity.predict(texts)


def test_save_and_load_round_trip(model: TrainedModel, tmp_path: Path) -> None:
    path = tmp_path / "models" / "m.joblib"
    model.save(path)
    loaded = TrainedModel.load(path)
    texts = ["refund the charge", "locked out", "blank page"]
    assert loaded.predict(texts) == model.predict(texts)
    assert loaded.meta == model.meta
    assert not list(path.parent.glob(".*.tmp"))


def test_missing_and_corrupt_files_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="frontline train"):
        TrainedModel.load(tmp_path / "nope.joblib")
    garbage = tmp_path / "garbage.joblib"
    garbage.write_bytes(b"not a pickle at all")
    with pytest.raises(ModelFormatError, match="not a frontline model"):
        TrainedModel.load(garbage)
    wrong = tmp_path / "wrong.joblib"
    joblib.dump({"format": "frontline.trained-model", "format_version": 99}, wrong)
    with pytest.raises(ModelFormatError, match="format 99"):
        TrainedModel.load(wrong)


@pytest.mark.parametrize(("texts", "labels", "message"), [
    (["a b", "c d"], ["x", "x"], "at least 2 distinct labels"),
    (["a b", "c d", "e f"], ["x", "x", "y"], "only 1"),
    (["a b", "c d"], ["x"], "give one label per text"),
    (["a b", "c d", "e f", "g h"], ["x", "x", "", "y"], "empty label"),
])
def test_unusable_training_data_is_explained(texts: list[str], labels: list[str], message: str) -> None:
    with pytest.raises(TrainingDataError, match=message):
        TrainedModel.train(texts, labels)


def test_training_reports_each_step_in_order() -> None:
    heard: list[tuple[str, int, int]] = []
    TrainedModel.train(TEXTS, LABELS, on_progress=lambda stage, done, total: heard.append((stage, done, total)))
    assert [done for _, done, _ in heard] == [0, 1, 2, 3, 4, 5]
    assert {total for _, _, total in heard} == {5}  # the features, 3 calibration folds, the final model
    assert heard[2][0] == "calibration fold 1/3 done" and heard[-1][0] == "final model done"


def test_predicting_in_reported_batches_gives_the_same_answers(model: TrainedModel) -> None:
    texts = TEXTS * 4
    heard: list[int] = []
    batched = model.predict(texts, batch=50, on_progress=lambda stage, done, total: heard.append(done))
    assert batched == model.predict(texts)
    assert heard == [50, 100, 120]

