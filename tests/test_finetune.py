"""Fine-tuning the sentence encoder (frontline[embeddings]): it learns, round-trips exactly through the model
file, is averaged with the linear model, is re-fitted per fold in cross-validation, and refuses a file whose
tuned weights don't fit the base model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest

from frontline.decide import learned
from frontline.decide.finetune import Recipe, TunedEncoder
from frontline.decide.learned import EscalationModel, cross_validate
from frontline.errors import ModelFormatError
from tests.test_learned import GOLD, HELD_OUT, HELD_OUT_GOLD, TEXTS

FAST = Recipe(epochs=2, learning_rate=1e-4, batch=16, max_tokens=32)


@pytest.fixture(scope="module")
def minilm(minilm: Any) -> Any:
    """The auto encoder with the PyTorch model fine-tuning starts from (skips without the embeddings extra)."""
    if getattr(minilm, "where", None) is None:
        pytest.skip("the frontline[embeddings] extra is not installed")
    return minilm


@pytest.fixture(scope="module")
def tuned(minilm: Any) -> TunedEncoder:
    return TunedEncoder.train(TEXTS[:64], GOLD[:64], base=minilm.name, where=minilm.where, recipe=FAST)


def test_the_tuned_encoder_learns_the_difference(tuned: TunedEncoder) -> None:
    probabilities = tuned.predict_proba(HELD_OUT)
    assert probabilities.shape == (len(HELD_OUT),)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    gold = np.asarray(HELD_OUT_GOLD)
    assert probabilities[gold].mean() > probabilities[~gold].mean() + 0.3
    assert tuned.predict_proba([]).shape == (0,)
    assert tuned.predict_proba(["", "   "]).shape == (2,)  # blank messages read, not crash


def test_state_rebuilds_the_same_network_in_float16(tuned: TunedEncoder, minilm: Any) -> None:
    state = tuned.state()
    assert state["base"] == "all-MiniLM-L6-v2" and state["max_tokens"] == FAST.max_tokens
    floats = [array for array in state["weights"].values() if array.dtype.kind == "f"]
    assert floats and all(array.dtype == np.float16 for array in floats)
    again = TunedEncoder.from_state(state, minilm.where)
    assert np.array_equal(again.predict_proba(HELD_OUT[:10]), tuned.predict_proba(HELD_OUT[:10]))


def test_the_model_averages_the_linear_part_and_the_tuned_encoder(minilm: Any, tmp_path: Path) -> None:
    model = EscalationModel.train(TEXTS[:64], GOLD[:64], folds=3, recipe=FAST)
    assert model.meta.finetuned and model.meta.embeddings == "all-MiniLM-L6-v2"
    assert "fine-tuned encoder" in model.meta.describe() and "linear part" in model.meta.describe()
    linear = EscalationModel.train(TEXTS[:64], GOLD[:64], folds=3, finetune=False)
    assert not linear.meta.finetuned
    assert model._tuned is not None
    expected = (linear.predict_proba(HELD_OUT[:10]) + model._tuned.predict_proba(HELD_OUT[:10])) / 2
    assert np.allclose(model.predict_proba(HELD_OUT[:10]), expected, atol=1e-9)

    path = tmp_path / "escalation.joblib"
    model.save(path)
    assert np.array_equal(EscalationModel.load(path).predict_proba(HELD_OUT[:10]), model.predict_proba(HELD_OUT[:10]))


def test_tuned_weights_that_do_not_fit_the_base_model_are_refused(minilm: Any, tuned: TunedEncoder,
                                                                  tmp_path: Path) -> None:
    model = EscalationModel.train(TEXTS[:64], GOLD[:64], folds=3, finetune=False)
    path = tmp_path / "escalation.joblib"
    model.save(path)
    payload = joblib.load(path)
    state = tuned.state()
    state["weights"] = {name: array for name, array in list(state["weights"].items())[:-3]}  # layers missing
    payload["tuned"] = state
    payload["meta"]["finetuned"] = True
    joblib.dump(payload, path)
    with pytest.raises(ModelFormatError, match="fine-tuned encoder does not fit all-MiniLM-L6-v2"):
        EscalationModel.load(path)


def test_cross_validation_fine_tunes_once_per_fold_and_never_on_the_rows_it_scores(
        minilm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, set[str]]] = []

    class Fake:
        def __init__(self, texts: list[str]) -> None:
            self.trained_on = set(texts)

        def predict_proba(self, texts: list[str]) -> np.ndarray:
            assert not self.trained_on & set(texts), "a fold was scored by an encoder tuned on it"
            return np.ones(len(texts))

    def fake_train(texts: list[str], gold: list[bool], **_: Any) -> Fake:
        seen.append((len(texts), set(texts)))
        return Fake(texts)

    monkeypatch.setattr(learned.TunedEncoder, "train", staticmethod(fake_train))
    unique = [f"{text} #{n}" for n, text in enumerate(TEXTS)]  # every row distinct, so overlap is visible
    with_tuning = cross_validate(unique, GOLD, folds=4)
    without = cross_validate(unique, GOLD, folds=4, finetune=False)
    assert len(seen) == 4 and all(size == 90 for size, _ in seen)
    assert np.allclose(with_tuning.probabilities, (without.probabilities + 1.0) / 2)
