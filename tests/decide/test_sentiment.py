"""The offline sentiment model: negativity from 0 to 1, its cues, and how it behaves on odd input."""

from __future__ import annotations

import csv
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontline.decide.sentiment import CUE_LABELS, WEIGHTS, SentimentModel, negativity
from tests.helpers import SHARED_DATA, SHARED_MISSING

CALM = [
    "Hi, how do I add a teammate to my workspace?",
    "Thanks so much, that fixed it!",
    "Great, all good now :)",
    "Could you send me the invoice for March please?",
    "I love the new dashboard",
]
FRUSTRATED = [
    "This is ridiculous. Still waiting after 3 days!!!",
    "Why is my order STILL not here?! Third time I'm asking.",
    "Nobody has replied. Useless.",
    "Your service is terrible and I want my money back",
    "I've emailed twice and called, no response. Unacceptable.",
]


@pytest.fixture
def model() -> SentimentModel:
    return SentimentModel()


@pytest.mark.parametrize("text", CALM)
def test_calm_messages_read_below_negative(model: SentimentModel, text: str) -> None:
    assert model.negativity(text) < 0.4


@pytest.mark.parametrize("text", FRUSTRATED)
def test_frustrated_messages_read_at_or_above_frustrated(model: SentimentModel, text: str) -> None:
    assert model.negativity(text) >= 0.7


def test_more_frustration_reads_more_negative(model: SentimentModel) -> None:
    ladder = ["The export finished, thanks.", "The export is slow today.",
              "The export still fails and I can't send the report.",
              "Why does the export STILL fail?! Third time I ask, nobody answers. Useless!!"]
    scores = [model.negativity(text) for text in ladder]
    assert scores == sorted(scores) and scores[0] < 0.4 and scores[-1] > 0.9


def test_a_negated_harsh_word_reads_milder(model: SentimentModel) -> None:
    assert model.negativity("The new editor is not terrible") < model.negativity("The new editor is terrible")
    assert "harsh words" not in model.read("I'm not angry, just asking").describe()


def test_cues_explain_the_score(model: SentimentModel) -> None:
    reading = model.read("Still waiting for my refund?! Why?")
    assert {"waiting", "why", "money", "exclaim"} <= set(reading.cues)
    assert reading.cues[0] == "why"  # strongest first
    assert "still waiting" in reading.describe() and "asks why" in reading.describe()
    assert set(CUE_LABELS) < set(WEIGHTS)


@pytest.mark.parametrize("text", ["", "   \n\t", "<p></p>", "<br/>&nbsp;"])
def test_blank_text_reads_zero(model: SentimentModel, text: str) -> None:
    assert model.read(text).negativity == 0.0 and model.read(text).cues == ()


def test_html_smart_quotes_links_and_handles_read_like_plain_text(model: SentimentModel) -> None:
    plain = model.negativity("It's still broken, why won't it load?")
    assert model.negativity("<p>It’s <b>still</b> broken, why won’t it load?</p>") == plain
    assert model.negativity("@AcmeHelp It's still broken, why won't it load? https://t.co/x1") == plain


def test_the_model_is_deterministic_and_the_module_function_agrees(model: SentimentModel) -> None:
    text = FRUSTRATED[1]
    assert {model.negativity(text) for _ in range(5)} == {negativity(text)}


@given(st.text(max_size=500))
def test_any_text_reads_between_zero_and_one(text: str) -> None:
    assert 0.0 <= negativity(text) <= 1.0


AIRLINE = SHARED_DATA / "airline_sentiment" / "Tweets.train.csv"


@pytest.mark.skipif(not AIRLINE.exists(), reason=SHARED_MISSING)
def test_real_negative_tweets_read_more_negative_than_positive_ones(model: SentimentModel) -> None:
    """Customer tweets to airlines the model was never fitted on: negative ones score far above positive ones."""
    with AIRLINE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))[:3000]
    by_label: dict[str, list[float]] = {}
    for row in rows:
        by_label.setdefault(row["airline_sentiment"], []).append(model.negativity(row["text"]))
    assert statistics.median(by_label["negative"]) >= 0.7
    assert statistics.median(by_label["positive"]) < 0.4
    assert statistics.mean(by_label["negative"]) - statistics.mean(by_label["positive"]) > 0.3


@pytest.mark.parametrize("text", [
    "Broken again!", "Third time this week", "Every time I open it", "It keeps crashing", "constantly failing",
    "over and over", "Please help", "help! nothing works", "#help me", "fix this now", "sort it out", "do something",
    "why?", "How come it fails", "Where is my order", "what happened", "when will it ship", "any update?",
    "how long does it take", "what's going on", "still no refund", "thanks for nothing", "thanks a lot",
    "great job guys", "nice one", "well done", "love how it breaks", "so much for support", "just great",
    "happy first anniversary", "all fine here, thank you",
])
def test_the_word_checks_never_change_what_the_cue_patterns_find(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from frontline.decide import sentiment

    fast = sentiment.features(text, vader=False)
    monkeypatch.setattr(sentiment, "_ANCHORS", {})
    assert sentiment.features(text, vader=False) == fast
