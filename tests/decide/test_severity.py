"""Business impact on severity: tier, revenue at risk, scope and sentiment, each raise with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontline.config import Settings
from frontline.config.loading import load_settings
from frontline.decide.severity import sentiment_for, urgent, weigh_impact
from frontline.decide.triage import RulesClassifier, weigh
from frontline.errors import ConfigError
from frontline.model import Company, Ticket, Triage
from tests.helpers import run

HOW_TO = "How do I set up recurring tasks?"
ANGRY = ("This is the third time I am asking and still nobody answers. Why is this still not working?! "
         "Absolutely unacceptable, we are furious.")
CALM = "Could you tell me where the recurring tasks setting is? Thanks a lot."


def classify(settings: Settings, ticket: Ticket) -> Triage:
    return run(RulesClassifier(settings).classify([ticket]))[0]


def triaged(settings: Settings, ticket: Ticket) -> Triage:
    """As the triage flow weighs it: the classifier's answer (customer value), then the ticket's tone."""
    return weigh(classify(settings, ticket), ticket, settings, sentiment=sentiment_for(ticket, settings))


def test_a_frustrated_enterprise_customer_is_not_p3(settings: Settings) -> None:
    triage = triaged(settings, Ticket("1", HOW_TO, ANGRY, company=Company("Big", "Enterprise", 2_000.0)))
    assert triage.severity in ("P0", "P1")
    reason = next(r for r in triage.reasons if r.startswith("business impact"))
    assert "P3 → P1" in reason
    assert "high-value customer (Enterprise plan) +1" in reason
    assert "reads frustrated" in reason


def test_a_calm_small_free_customer_stays_where_the_text_puts_it(settings: Settings) -> None:
    triage = triaged(settings, Ticket("1", HOW_TO, CALM, company=Company("Tiny", "free", 0.0)))
    assert triage.severity == "P3"
    assert not any(r.startswith("business impact") for r in triage.reasons)


def test_an_angry_free_customer_alone_is_one_level_up(settings: Settings) -> None:
    triage = triaged(settings, Ticket("1", HOW_TO, ANGRY, company=Company("Tiny", "free", 0.0)))
    assert triage.severity == "P2"


def test_revenue_at_risk_weighs_more_than_a_high_value_plan(settings: Settings) -> None:
    impact = weigh_impact("P3", settings, company=Company("Whale", "enterprise", 25_000.0))
    assert impact.severity == "P2" and impact.points == 1.5
    assert "revenue at risk (MRR $25,000, critical from $10,000)" in (impact.reason or "")
    with_mood = weigh_impact("P3", settings, company=Company("Whale", "enterprise", 25_000.0),
                             sentiment=(0.8, "negative", ("asks why",)))
    assert with_mood.severity == "P1"
    assert "reads negative (0.80: asks why) +0.5" in (with_mood.reason or "")


def test_an_incidents_scope_raises_and_weighing_again_does_not_raise_twice(settings: Settings) -> None:
    ticket = Ticket("1", "Export fails", "The export shows an error", company=Company("Mid", "pro", 100.0))
    first = classify(settings, ticket)
    assert first.severity == "P2"
    joined = weigh(first, ticket, settings, incident_size=6)
    assert joined.severity == "P1" and "incident of 6 customers +1" in joined.reasons[-1]
    again = weigh(joined, ticket, settings, incident_size=25)
    assert again.severity == "P0"
    assert sum(r.startswith("business impact") for r in again.reasons) == 1
    assert weigh_impact("P3", settings, incident_size=4).severity == "P3"  # below scope_min


def test_raises_stop_at_max_raise_and_p0_stays_p0(settings: Settings) -> None:
    impact = weigh_impact("P3", settings, company=Company("Whale", "enterprise", 25_000.0),
                          sentiment=(0.95, "frustrated", ()), incident_size=50)
    assert impact.points == 4.5 and impact.severity == "P1"  # max_raise 2
    assert weigh_impact("P0", settings, sentiment=(0.95, "", ())).reason is None


def test_weights_and_thresholds_come_from_settings() -> None:
    quiet = Settings.model_validate({"urgency": {"frustrated": 0.0, "negative": 0.0, "tier": 2.0}})
    assert weigh_impact("P3", quiet, sentiment=(0.99, "", ())).severity == "P3"
    assert weigh_impact("P3", quiet, company=Company("Big", "business")).severity == "P1"


@pytest.mark.parametrize(("toml", "words"), [
    ("[urgency]\nnegative_at = 0.95\n", "negative_at must not be above frustrated_at"),
    ('[escalation_protocol]\noncall = "@oncall"\n', "must be a Slack user group ID"),
    ('[escalation_protocol]\nseverities = ["P5"]\n', "unknown severities P5"),
])
def test_a_bad_urgency_setting_is_one_sentence(tmp_path: Path, toml: str, words: str) -> None:
    path = tmp_path / "frontline.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert words in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_urgent_tickets_are_p0_and_p1_for_high_value_customers_when_configured(settings: Settings) -> None:
    assert urgent("P0", None, settings) == "P0 ticket"
    assert urgent("P1", Company("Big", "enterprise"), settings) is None  # its value raised it to P1 already
    wider = Settings.model_validate({"escalation_protocol": {"high_value_severities": ["P1"]}})
    assert urgent("P1", None, wider) is None
    assert urgent("P1", Company("Big", "enterprise"), wider) == "P1 ticket from a high-value customer (enterprise plan)"
    off = Settings.model_validate({"escalation_protocol": {"enabled": False}})
    assert urgent("P0", None, off) is None


def test_weighing_the_tone_keeps_the_abstain_reason_last(settings: Settings) -> None:
    ticket = Ticket("1", "hello", "Third time I ask and still nobody answers. Why?! Unacceptable.",
                    company=Company("Big", "enterprise"))
    first = classify(settings, ticket)
    assert "abstained" in first.flags
    toned = weigh(first, ticket, settings, sentiment=sentiment_for(ticket, settings))
    assert toned.reasons[-1].startswith("confidence ") and "below abstain threshold" in toned.reasons[-1]
    assert any(r.startswith("business impact") and "reads frustrated" in r for r in toned.reasons)
