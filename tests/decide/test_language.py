"""Language detection on short support text: named when sure, left out (and why) when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontline.decide.language import MIN_CONFIDENCE, Language, clean, detect, letters

SAMPLES = Path(__file__).parent / "data" / "languages.tsv"


def _samples() -> list[tuple[str, str]]:
    rows = [line.split("\t", 1) for line in SAMPLES.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    return [(language, text) for language, text in rows]


def test_a_hand_written_support_message_gets_its_language_or_none_never_a_wrong_one() -> None:
    samples = _samples()
    found = [(language, detect(text).code) for language, text in samples]
    wrong = [(language, code) for language, code in found if code is not None and code != language]
    assert wrong == []
    assert sum(code == language for language, code in found) >= 0.9 * len(samples)


@pytest.mark.parametrize(("text", "code"), [
    ("Ich kann mich seit gestern nicht mehr in mein Konto einloggen.", "de"),
    ("Où est ma commande ? J'attends depuis deux semaines.", "fr"),
    ("¿Dónde está mi pedido? Llevo dos semanas esperando.", "es"),
    ("昨日からアカウントにログインできません。", "ja"),
    ("Export to CSV fails with error 500 since the update", "en"),
])
def test_clear_text_is_named(text: str, code: str) -> None:
    language = detect(text)
    assert language.code == code
    assert language.confidence >= MIN_CONFIDENCE


@pytest.mark.parametrize("text", ["ok thx", "Danke!", "", "   ", "https://example.com/a/b 12345", "<p>hi</p>"])
def test_too_short_text_gets_no_language_and_says_so(text: str) -> None:
    language = detect(text)
    assert language.code is None
    assert "too short" in language.reason
    assert language.describe().startswith("not tagged: too short")


def test_an_unsure_guess_is_not_used_and_the_reason_names_it() -> None:
    language = detect("Ich kann mich seit gestern nicht mehr einloggen", min_confidence=1.01)
    assert language.code is None
    assert language.reason.startswith("unsure (best guess de at ")


def test_links_addresses_handles_and_numbers_are_not_read_as_words() -> None:
    assert clean("<b>Hallo</b> @acme mail a.b@example.com or https://x.example/p #42 ok") == "Hallo mail or ok"


def test_ideographs_count_as_more_than_one_letter() -> None:
    assert letters("abc") == 3
    assert letters("重置密码") == 8


def test_a_long_ticket_is_read_from_its_opening_only() -> None:
    assert len(clean("Bonjour " * 1000)) <= 400
    assert detect("Bonjour, ma facture de mars est fausse. " * 200).code == "fr"


def test_describe_names_the_language_and_confidence() -> None:
    assert Language("de", 0.97).describe() == "de (0.97)"
