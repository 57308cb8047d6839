"""Text helpers: HTML reduction, keyword matching on word boundaries, summaries."""

from __future__ import annotations

from frontline.decide.text import KeywordMatcher, html_to_text, looks_like_html, summarise


def test_html_bodies_are_reduced_to_text_with_paragraphs() -> None:
    html = "<p>Hi,</p><p>The export &amp; import <b>crash</b><br>every time.</p><script>alert(1)</script>"
    assert html_to_text(html) == "Hi,\n\nThe export & import crash\nevery time."


def test_plain_text_with_angle_brackets_is_left_alone() -> None:
    text = "if a < b and c > d the total is wrong"
    assert not looks_like_html(text)
    assert html_to_text(text) == text


def test_keywords_match_on_word_boundaries_only() -> None:
    matcher = KeywordMatcher(["error", "log in", "2fa"])
    assert matcher.find("Login page shows an Error; can't log   in; 2FA broken") == {"error", "log in", "2fa"}
    assert matcher.find("errors in the terrorist report; catalogue; blog in") == set()


def test_summary_skips_greeting_and_joins_subject() -> None:
    summary = summarise("Invoice is wrong", "Hello team,\nWe were charged twice for March. Please fix it.")
    assert summary == "Invoice is wrong: We were charged twice for March."


def test_summary_of_empty_ticket_is_explicit() -> None:
    assert summarise("", "   ") == "(empty ticket: no subject or description)"


def test_summary_is_bounded_for_huge_bodies() -> None:
    assert len(summarise("", "word " * 200_000)) <= 200


def test_own_words_drop_the_quoted_message_of_an_email_reply() -> None:
    from frontline.decide.text import own_words

    reply = ("Thanks, that works now!\n\nOn Mon, Nov 3, 2026 at 9:00 AM Beacon Support <help@beacon.example> wrote:\n"
             "> Sorry you are frustrated. If you want to cancel, let us know.")
    assert own_words(reply) == "Thanks, that works now!"
    assert own_words("> quoted line\nmine\n> more quoted") == "mine"
    assert own_words("First line\n-----Original Message-----\nFrom: x\nangry words") == "First line"
    assert own_words("On second thought, cancel it.") == "On second thought, cancel it."


def test_keywords_are_found_across_tags_and_entities_in_plain_text() -> None:
    matcher = KeywordMatcher(["charged twice", "can't log in", "r&d"])
    assert matcher.find("Charged <b>twice</b>, and I can’t <br>log in (R&amp;D)") == {"charged twice", "can't log in",
                                                                                      "r&d"}


def test_a_declared_html_body_is_decoded_even_without_tags() -> None:
    assert html_to_text("Fish &amp; chips &lt;3") == "Fish & chips <3"
