"""Local deciders: keyword rules, severity, business impact and abstention."""

from __future__ import annotations

from frontline.config import Settings
from frontline.decide.triage import RulesClassifier
from frontline.model import Company, Requester, Ticket
from tests.helpers import run


def classify(settings: Settings, ticket: Ticket) -> object:
    return run(RulesClassifier(settings).classify([ticket]))[0]


def test_rules_pick_the_category_with_most_keyword_hits(settings: Settings) -> None:
    triage = classify(settings, Ticket("1", "Refund please", "We were charged twice on our invoice"))
    assert triage.category == "billing"
    assert 0.3 <= triage.confidence <= 0.75
    assert triage.classifier == "rules"


def test_no_keyword_means_zero_confidence_and_review(settings: Settings) -> None:
    triage = classify(settings, Ticket("1", "hello", "??"))
    assert triage.confidence == 0.0
    assert "abstained" in triage.flags


def test_outage_words_make_it_p0(settings: Settings) -> None:
    triage = classify(settings, Ticket("1", "Production down", "The app shows an error for all users"))
    assert triage.severity == "P0"


def test_high_value_customer_raises_severity_one_level(settings: Settings) -> None:
    text = ("How do I", "How do I set up recurring tasks?")
    small = classify(settings, Ticket("1", *text, company=Company("Tiny", "starter", 20.0)))
    plan = classify(settings, Ticket("2", *text, company=Company("Big", "Enterprise", 100.0)))
    mrr = classify(settings, Ticket("3", *text, company=Company("Rich", "pro", 501.0)))
    assert small.severity == "P3"
    assert plan.severity == "P2" and mrr.severity == "P2"
    assert any("high-value" in r for r in mrr.reasons)


def test_p0_stays_p0_for_high_value(settings: Settings) -> None:
    triage = classify(settings, Ticket("1", "outage", "site is down", company=Company("Big", "enterprise", 9e4)))
    assert triage.severity == "P0"


def test_suggested_reply_greets_the_requester(settings: Settings) -> None:
    triage = classify(settings, Ticket("1", "Invoice", "wrong invoice", requester=Requester("Ana Lima", "a@x.io")))
    assert triage.suggested_reply.startswith("Hi Ana,")


def test_plain_text_holding_tags_is_classified_as_the_same_text_without_them(settings: Settings) -> None:
    tagged = classify(settings, Ticket("1", "Charged <b>twice</b>", "Use <script src=x> to pay, then <br> the "
                                       "invoice shows a double charge. Refund please </script>"))
    bare = classify(settings, Ticket("2", "Charged twice", "Use to pay, then the invoice shows a double charge. "
                                     "Refund please"))
    assert (tagged.category, tagged.severity) == (bare.category, bare.severity) == ("billing", bare.severity)
    assert "invoice" in tagged.summary.lower() or "charge" in tagged.summary.lower()
