"""Escalation signals: keywords (inflections, negation, ignored phrases), the conversation's shape, tone, value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontline.config import Settings
from frontline.decide.keywords import KeywordSpotter, inflections
from frontline.decide.signals import EscalationScorer, binary_scores, ordinal, score
from frontline.decide.value import customer_value
from frontline.model import Author, Company, Conversation, Part

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DEFAULTS = Settings()


def settings_with(**escalation: Any) -> Settings:
    """Default settings with some `[escalation]` keys replaced (nested dicts merge one level down)."""
    return Settings.model_validate({"escalation": escalation})


@pytest.fixture
def spotter() -> KeywordSpotter:
    keywords = DEFAULTS.escalation.signals.keywords
    return KeywordSpotter(keywords.words, keywords.ignore)


@pytest.fixture
def scorer() -> EscalationScorer:
    return EscalationScorer(DEFAULTS)


def customer(body: str, **kwargs: Any) -> Part:
    return Part(Author.CUSTOMER, body, **kwargs)


def agent(body: str, **kwargs: Any) -> Part:
    return Part(Author.AGENT, body, **kwargs)


def conversation(*parts: Part, **kwargs: Any) -> Conversation:
    kwargs.setdefault("created_at", NOW - timedelta(hours=1))
    return Conversation(id="c1", title="", parts=parts, **kwargs)


def found(spotter: KeywordSpotter, text: str) -> list[str]:
    return [hit.found for hit in spotter.find(text)]


def named(escalation_signals: Any) -> dict[str, Any]:
    return {signal.name: signal for signal in escalation_signals}


# -- keywords: inflections -------------------------------------------------------------------------
@pytest.mark.parametrize("word", [
    "cancel", "cancels", "canceled", "cancelled", "canceling", "cancelling", "cancellation", "cancelation",
    "refund", "refunds", "refunded", "refunding", "frustrated", "frustrating", "frustration", "frustrates",
    "disappointed", "disappointing", "disappointment", "angry", "angrier", "angrily", "terribly", "lawyers",
])
def test_a_keyword_matches_its_inflections(spotter: KeywordSpotter, word: str) -> None:
    assert found(spotter, f"ok so {word} then") == [word]


def test_inflections_are_derived_by_rule_from_any_configured_form() -> None:
    assert {"cancel", "cancelled", "canceling", "cancellation"} <= inflections("cancellations")
    assert {"frustrate", "frustrating", "frustration"} <= inflections("frustrated")
    assert "disappointment" in inflections("disappoint")


@pytest.mark.parametrize("text", ["refundable fares", "the cancelbutton", "managerial tone", "precancel step",
                                  "angrybirds", "a frustrat0r"])
def test_a_keyword_inside_a_longer_word_does_not_count(spotter: KeywordSpotter, text: str) -> None:
    assert found(spotter, text) == []


# -- keywords: negation ------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "No need to cancel, it works now.", "I'm not cancelling", "I don't want a refund", "I’m not angry",
    "I am not asking for a refund", "We do not plan to cancel", "There is no reason to cancel the plan",
    "I don’t think I will cancel", "not frustrated at all, thanks",
])
def test_a_negated_keyword_does_not_count(spotter: KeywordSpotter, text: str) -> None:
    assert found(spotter, text) == []


@pytest.mark.parametrize("text", [
    "You didn't refund me", "Still not refunded!", "I have not received my refund", "I never got my refund",
    "Why won't you refund me?", "Still no refund after two weeks",
])
def test_a_failure_told_in_the_past_still_counts(spotter: KeywordSpotter, text: str) -> None:
    assert len(found(spotter, text)) == 1


def test_negation_ends_with_the_clause(spotter: KeywordSpotter) -> None:
    assert found(spotter, "I'm not angry, just disappointed") == ["disappointed"]
    assert found(spotter, "No need to cancel. Actually, please cancel it now") == ["cancel"]
    assert found(spotter, "I don't mind the wait but I want a refund") == ["refund"]


# -- keywords: false positives ---------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "Our account manager said this was included", "Can the Account Managers see invoices?",
    "My manager asked for the export", "The Cancel button on the export dialog does nothing",
    "I clicked cancel by mistake", "Please use my legal name on invoices", "Worst case we retry tomorrow",
])
def test_ignored_phrases_do_not_count(spotter: KeywordSpotter, text: str) -> None:
    assert found(spotter, text) == []


def test_asking_for_a_manager_or_how_to_cancel_counts(spotter: KeywordSpotter) -> None:
    assert found(spotter, "I want to speak to a manager") == ["speak to a manager"]
    assert found(spotter, "Let me talk with your manager.") == ["talk with your manager"]
    assert found(spotter, "How do I cancel my subscription?") == ["cancel"]


def test_a_wildcard_stands_for_up_to_two_words_of_the_same_clause() -> None:
    spotter = KeywordSpotter(["speak * manager"])
    assert found(spotter, "speaking to the manager") == ["speaking to the manager"]
    assert found(spotter, "speak manager") == ["speak manager"]
    assert found(spotter, "speak to one of the managers") == []  # three words between
    assert found(spotter, "I will speak. Manager approval is pending") == []


@pytest.mark.parametrize("text", [
    "How do I cancel an invitation I sent to the wrong address?", "Can I cancel the import? Wrong file.",
    "If a meeting is cancelled, does the task move?", "Our line managers want a weekly report",
    "How do managers approve timesheets?", "For legal reasons we keep invoices for ten years",
    "Ignore my last message, no refund needed, the bank reversed it.",
])
def test_keywords_about_something_else_do_not_count(spotter: KeywordSpotter, text: str) -> None:
    assert found(spotter, text) == []


def test_configured_ignore_phrases_replace_the_defaults() -> None:
    spotter = KeywordSpotter(["refund"], ignore=["refund policy"])
    assert found(spotter, "What is your refund policy?") == []
    assert found(spotter, "I want a refund") == ["refund"]


# -- keywords: robustness ----------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("I’m CANCELLING!!!", ["cancelling"]),
    ("<p>This is <b>unacceptable</b></p>", ["unacceptable"]),
    ("&quot;Refund&quot; please", ["refund"]),
    ("(refund)...cancel—now", ["refund", "cancel"]),
    ("I don’t want a refund", []),
    ("fed   up\nwith this", ["fed up"]),
])
def test_matching_survives_case_punctuation_quotes_and_html(spotter: KeywordSpotter, text: str,
                                                            expected: list[str]) -> None:
    assert found(spotter, text) == expected


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
FILLER = st.lists(st.sampled_from(["the", "app", "is", "slow", "today", "please", "help", "ok", "invoice"]),
                  max_size=6).map(" ".join)


@given(st.text(max_size=300))
def test_any_text_is_matched_without_error_and_hits_are_words_of_the_text(text: str) -> None:
    spotter = KeywordSpotter(DEFAULTS.escalation.signals.keywords.words)
    for hit in spotter.find(text):
        assert hit.found.split()[0] in inflections(hit.keyword.split()[0])


@given(FILLER, st.sampled_from(sorted(inflections("cancel") & {"cancels", "cancelled", "canceling",
                                                               "cancellation", "cancel"})), FILLER)
def test_an_inflection_among_other_words_is_found_in_any_case(before: str, word: str, after: str) -> None:
    spotter = KeywordSpotter(["cancel"])
    text = f"{before} {word}, {after}"
    assert found(spotter, text) == [word]
    assert found(spotter, text.upper()) == [word]


@given(WORDS, WORDS)
def test_a_keyword_glued_to_other_letters_is_never_found(prefix: str, suffix: str) -> None:
    spotter = KeywordSpotter(["cancel", "refund"])
    assert spotter.find(f"{prefix}cancel{suffix} x{prefix}refund") == []


# -- conversations: who wrote it -------------------------------------------------------------------------
def test_only_what_the_customer_wrote_counts(scorer: EscalationScorer) -> None:
    calm = conversation(
        customer("Hi, how do I add a teammate?"),
        agent("If you are frustrated you can cancel and we refund you."),
        Part(Author.BOT, "Are you angry? This is unacceptable!"),
        agent("internal: customer sounds furious, wants a refund", kind="note"),
        Part(Author.CUSTOMER, "cancel everything, terrible", kind="note"),
    )
    result = scorer.score(calm, NOW)
    assert result.signals == () and result.score == 0 and not result.escalate
    assert result.sentiment is not None and result.sentiment.label in ("neutral", "positive")


def test_the_keyword_detail_names_the_word_and_the_customer_message(scorer: EscalationScorer) -> None:
    thread = conversation(customer("Hello"), agent("Hi! How can I help?"), customer("Export fails"),
                          agent("Looking into it"), customer("I'm cancelling if this goes on"))
    keywords = named(scorer.score(thread, NOW).signals)["keywords"]
    assert keywords.weight == 0.4
    assert keywords.detail == '"cancelling" in the customer\'s 3rd message'


def test_several_keywords_are_listed_once_each(scorer: EscalationScorer) -> None:
    thread = conversation(customer("I want a refund"), customer("refund now, this is ridiculous"))
    detail = named(scorer.score(thread, NOW).signals)["keywords"].detail
    assert detail == '"refund" in the customer\'s 1st message, "ridiculous" in the 2nd'


# -- conversations: shape ----------------------------------------------------------------------------------
def test_hours_open_fires_past_the_limit_as_of_now(scorer: EscalationScorer) -> None:
    thread = conversation(customer("Any news?"), created_at=NOW - timedelta(hours=31))
    assert named(scorer.score(thread, NOW).signals)["hours_open"].detail == "open 31 h (over 24 h)"
    assert "hours_open" not in named(scorer.score(thread, NOW - timedelta(hours=8)).signals)


def test_hours_open_counts_snoozed_but_not_closed_or_undated(scorer: EscalationScorer) -> None:
    old = NOW - timedelta(hours=50)
    snoozed = conversation(customer("Any news?"), created_at=old, state="snoozed")
    assert named(scorer.score(snoozed, NOW).signals)["hours_open"].detail == "open 50 h (snoozed) (over 24 h)"
    assert "hours_open" not in named(scorer.score(conversation(customer("x"), created_at=old, state="closed"),
                                                  NOW).signals)
    assert "hours_open" not in named(scorer.score(conversation(customer("x"), created_at=None), NOW).signals)


def test_a_naive_creation_time_is_read_as_utc(scorer: EscalationScorer) -> None:
    thread = conversation(customer("Any news?"), created_at=datetime(2026, 11, 24, 0, 0))
    assert named(scorer.score(thread, NOW).signals)["hours_open"].detail == "open 36 h (over 24 h)"


def test_customer_replies_are_the_customer_comment_parts(scorer: EscalationScorer) -> None:
    parts = [customer(f"message {i}") for i in range(5)]
    noise = [agent("reply"), agent("note", kind="note"), Part(Author.BOT, "bot"), customer("", kind="comment"),
             Part(Author.CUSTOMER, "", kind="open")]
    result = scorer.score(conversation(*parts, *noise), NOW)
    assert named(result.signals)["customer_replies"].detail == "5 customer replies (more than 3)"
    fewer = scorer.score(conversation(*parts[:3], *noise, agent("more"), agent("and more")), NOW)
    assert "customer_replies" not in named(fewer.signals)


@pytest.mark.parametrize(("count", "detail"), [(1, "reopened once"), (2, "reopened twice"), (4, "reopened 4 times")])
def test_reopened_fires_with_the_count(scorer: EscalationScorer, count: int, detail: str) -> None:
    result = scorer.score(conversation(customer("It broke again"), reopened=count), NOW)
    assert named(result.signals)["reopened"].detail == detail


def test_never_reopened_does_not_fire(scorer: EscalationScorer) -> None:
    assert "reopened" not in named(scorer.score(conversation(customer("hello")), NOW).signals)


# -- conversations: tone ----------------------------------------------------------------------------------
def test_sentiment_compares_the_first_and_last_customer_message(scorer: EscalationScorer) -> None:
    thread = conversation(customer("Hi, could you show me how to add a teammate? Thanks!"), agent("Sure, …"),
                          customer("Why is this STILL not working?! Third time I ask. Nobody answers."))
    result = scorer.score(thread, NOW)
    assert result.sentiment is not None
    assert result.sentiment.label == "frustrated" and result.sentiment.first < 0.4 <= 0.7 <= result.sentiment.last
    signals = named(result.signals)
    assert signals["sentiment"].weight == 0.4
    assert signals["sentiment"].detail.startswith(f"frustrated ({result.sentiment.last:.2f}) in the customer's "
                                                  "last message: ")
    assert "asks why" in signals["sentiment"].detail
    assert signals["sentiment_worsening"].detail == (
        f"frustrated ({result.sentiment.last:.2f}), worse than the first message ({result.sentiment.first:.2f})")


def test_a_customer_angry_from_the_start_is_not_worsening(scorer: EscalationScorer) -> None:
    angry = "This is ridiculous, still waiting after 3 days!!"
    result = scorer.score(conversation(customer(angry), customer(angry)), NOW)
    assert result.sentiment is not None and result.sentiment.trend == 0
    assert "sentiment" in named(result.signals) and "sentiment_worsening" not in named(result.signals)


def test_a_negative_last_message_adds_the_smaller_weight() -> None:
    scorer = EscalationScorer(settings_with(signals={"sentiment": {"negative": 0.1, "frustrated": 0.999}}))
    result = scorer.score(conversation(customer("The export is slow today.")), NOW)
    assert result.sentiment is not None and result.sentiment.label == "negative"
    assert named(result.signals)["sentiment"].weight == 0.2
    assert named(result.signals)["sentiment"].detail.startswith("negative (")


def test_a_happy_customer_reads_positive_and_fires_nothing(scorer: EscalationScorer) -> None:
    result = scorer.score(conversation(customer("Great, thanks so much, that fixed it! :)")), NOW)
    assert result.sentiment is not None and result.sentiment.label == "positive"
    assert result.signals == ()


def test_no_customer_message_means_no_sentiment(scorer: EscalationScorer) -> None:
    result = scorer.score(conversation(agent("Following up"), customer("   ")), NOW)
    assert result.sentiment is None and result.score == 0


# -- the score ------------------------------------------------------------------------------------------
def test_the_score_is_the_sum_of_the_fired_weights_and_escalates_at_the_threshold() -> None:
    thread = conversation(customer("hello"), customer("any update"), customer("hello?"), customer("ok"),
                          created_at=NOW - timedelta(hours=30))
    settings = settings_with(threshold=0.6, signals={"sentiment": {"negative": 0.99, "frustrated": 0.99}})
    result = EscalationScorer(settings).score(thread, NOW)
    assert [s.name for s in result.signals] == ["hours_open", "customer_replies"]
    assert result.score == pytest.approx(0.6) and result.escalate
    below = EscalationScorer(settings_with(threshold=0.61, signals=settings.escalation.signals.model_dump()))
    assert not below.score(thread, NOW).escalate


def test_weights_words_and_limits_come_from_settings() -> None:
    settings = settings_with(signals={
        "keywords": {"weight": 0.9, "words": ["churn"], "ignore": []},
        "hours_open": {"hours": 2, "weight": 0.0},
        "customer_replies": {"more_than": 0, "weight": 0.05},
    })
    thread = conversation(customer("We might churn. I want a refund."), created_at=NOW - timedelta(hours=5))
    signals = named(EscalationScorer(settings).score(thread, NOW).signals)
    assert signals["keywords"].weight == 0.9 and signals["keywords"].detail == '"churn" in the customer\'s message'
    assert "hours_open" not in signals  # a weight of 0 switches a signal off
    assert signals["customer_replies"].detail == "1 customer replies (more than 0)"


def test_score_function_matches_the_scorer() -> None:
    thread = conversation(customer("I want a refund, this is unacceptable"), reopened=1)
    assert score(thread, DEFAULTS, NOW) == EscalationScorer(DEFAULTS).score(thread, NOW)


def test_the_text_score_reads_one_message_with_keywords_and_sentiment_only(scorer: EscalationScorer) -> None:
    total, fired = scorer.score_text("I'm cancelling. Still waiting after 3 days and nobody answers!!")
    assert [s.name for s in fired] == ["keywords", "sentiment"] and total == pytest.approx(0.8)
    assert scorer.escalates_text("I'm cancelling. Still waiting after 3 days and nobody answers!!")
    assert scorer.score_text("") == (0.0, ())
    assert not scorer.escalates_text("Thanks, all good now")


# -- customer value -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("company", "priority", "reason"), [
    (Company("Acme", "enterprise", 100.0), "P0", "P0: enterprise plan"),
    (Company("Acme", "Business", None), "P0", "P0: Business plan"),
    (Company("Acme", "starter", 1200.0), "P0", "P0: MRR $1,200 above $500"),
    (Company("Acme", "starter", 40.0), "P1", "P1: starter plan, MRR $40"),
    (Company("Acme", "pro", 500.0), "P1", "P1: pro plan, MRR $500"),
    (Company("Acme", None, 99.5), "P1", "P1: no plan on record, MRR $99.50"),
    (Company("Acme", "starter", None), "P1", "P1: starter plan, no MRR on record"),
    (Company("Acme", None, None), "P1", "P1: no plan or MRR on record for Acme"),
])
def test_customer_value_from_plan_and_mrr(company: Company, priority: str, reason: str) -> None:
    value = customer_value(company, DEFAULTS)
    assert (value.priority, value.reason) == (priority, reason)


def test_missing_company_data_is_p1_with_the_sources_reason() -> None:
    assert customer_value(None, DEFAULTS, missing_reason="the contact has no company").reason == (
        "P1: no company data (the contact has no company)")
    assert customer_value(None, DEFAULTS).reason == "P1: no company data (the source sent none)"


def test_the_scorer_states_why_company_data_is_missing(scorer: EscalationScorer) -> None:
    thread = conversation(customer("hi"), company_note="the Intercom token lacks the read companies scope")
    value = scorer.score(thread, NOW).value
    assert value.priority == "P1" and "lacks the read companies scope" in value.reason


def test_high_value_thresholds_come_from_settings() -> None:
    settings = Settings.model_validate({"thresholds": {"high_value_mrr": 30, "high_value_plans": ["gold"]}})
    assert customer_value(Company("Acme", "starter", 40.0), settings).reason == "P0: MRR $40 above $30"
    assert customer_value(Company("Acme", "GOLD", 1.0), settings).priority == "P0"
    assert customer_value(Company("Acme", "enterprise", 1.0), settings).priority == "P1"


# -- helpers -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("number", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                              (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd"), (103, "103rd")])
def test_ordinals(number: int, text: str) -> None:
    assert ordinal(number) == text


def test_binary_scores_count_the_confusions() -> None:
    scores = binary_scores([True, True, False, False, True], [True, False, True, False, True])
    assert (scores.tp, scores.fp, scores.fn, scores.tn) == (2, 1, 1, 1)
    assert scores.precision == pytest.approx(2 / 3) and scores.recall == pytest.approx(2 / 3)
    assert scores.f1 == pytest.approx(2 / 3) and scores.accuracy == pytest.approx(0.6)
    assert binary_scores([False], [False]).f1 == 0.0
    with pytest.raises(ValueError, match="2 predictions for 1"):
        binary_scores([True, False], [True])
