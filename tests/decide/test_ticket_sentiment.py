"""A ticket's customer tone comes from the escalation flow's scorer, reading only what the customer wrote."""

from __future__ import annotations

from frontline.config import Settings
from frontline.decide.signals import EscalationScorer
from frontline.decide.ticket_sentiment import customer_messages, ticket_sentiment
from frontline.model import Author, Message, Ticket

CALM = "How do I export my invoices to CSV? Thanks!"
ANGRY = "Why is this still not working?? Nobody answers and I have been waiting 3 days. Unacceptable."


def test_a_frustrated_customer_reads_frustrated_with_the_signals_that_fired() -> None:
    score, label, reasons = ticket_sentiment(Ticket("1", "Still broken!!", ANGRY))
    assert label == "frustrated"
    assert score >= 0.7
    assert any(reason.startswith("sentiment: frustrated") for reason in reasons)
    assert any(reason.startswith("keywords:") and "unacceptable" in reason for reason in reasons)


def test_a_calm_question_reads_calm_and_fires_nothing() -> None:
    sentiment = ticket_sentiment(Ticket("2", "Export", CALM))
    assert sentiment.label in ("neutral", "positive")
    assert sentiment.reasons == ()


def test_only_the_customers_public_messages_count_and_a_worsening_tone_is_named() -> None:
    ticket = Ticket("3", "Export", CALM, messages=(
        Message(Author.CUSTOMER, CALM),
        Message(Author.AGENT, "This is terrible, useless and broken, why why why!!"),
        Message(Author.CUSTOMER, "Internal: customer is furious, unacceptable!!", public=False),
        Message(Author.CUSTOMER, ANGRY),
    ))
    assert customer_messages(ticket) == [f"Export\n{CALM}", ANGRY]
    sentiment = ticket_sentiment(ticket)
    assert sentiment.label == "frustrated"
    assert any(reason.startswith("sentiment_worsening:") for reason in sentiment.reasons)


def test_agent_words_alone_do_not_make_a_ticket_frustrated() -> None:
    ticket = Ticket("4", "Export", CALM, messages=(
        Message(Author.CUSTOMER, CALM), Message(Author.AGENT, "Why is this still broken?? Unacceptable!!")))
    assert ticket_sentiment(ticket).label in ("neutral", "positive")


def test_a_ticket_with_no_customer_text_is_not_scored() -> None:
    sentiment = ticket_sentiment(Ticket("5", "", "  "))
    assert (sentiment.score, sentiment.label, sentiment.reasons) == (0.0, "unknown", ())
    assert sentiment.describe() == "not scored (no customer text)"


def test_the_teams_own_keywords_are_read_through_its_scorer() -> None:
    settings = Settings.model_validate({"escalation": {"signals": {"keywords": {"words": ["kaputt"]}}}})
    ticket = Ticket("6", "Printer", "The printer is kaputt.")
    sentiment = ticket_sentiment(ticket, EscalationScorer(settings, learned=None))
    assert any(reason.startswith("keywords:") and "kaputt" in reason for reason in sentiment.reasons)
    assert not any("kaputt" in reason for reason in ticket_sentiment(ticket).reasons)


def test_describe_and_to_dict_carry_the_label_score_and_reasons() -> None:
    sentiment = ticket_sentiment(Ticket("7", "Still broken!!", ANGRY))
    assert sentiment.describe().startswith(f"frustrated ({sentiment.score:.2f}): ")
    assert sentiment.to_dict() == {"score": sentiment.score, "label": "frustrated", "reasons": list(sentiment.reasons)}
