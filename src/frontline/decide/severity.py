"""Severity: urgency words in the text, the category's default, and business impact.

Business impact (:func:`weigh_impact`) weighs four facts in points (``[urgency]``): the customer's
tier (plan), the revenue at risk (MRR), the scope (how many customers the ticket's incident holds)
and the sentiment (how frustrated the ticket reads). Each whole point raises the severity one level,
at most ``urgency.max_raise``; every fact that counted is named in the reason, so a person can check
why a P3 became P1. :func:`urgent` says whether a ticket triggers the escalation protocol.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from frontline.config import SEVERITIES, Settings
from frontline.decide.text import KeywordMatcher
from frontline.decide.value import money
from frontline.model import Company, Ticket

# Where a raise's reason starts, so weighing again (an incident's size now known) replaces it.
IMPACT_PREFIX = "business impact"
# The sentiment another step read, as ``decide.language.ticket_sentiment`` gives it: (negativity 0–1, label, cues).
SentimentReading = tuple[float, str, Sequence[str]]
# The sentiment model reads the start of long tickets only, like the classifiers.
SENTIMENT_TEXT_LIMIT = 6000


class SeverityRules:
    """Decides a severity from urgency keywords, falling back to the category default."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._matchers = [
            (level, KeywordMatcher(settings.severities[level].keywords)) for level in SEVERITIES
        ]

    def decide(self, text: str, category: str) -> tuple[str, str]:
        """Return (severity, reason)."""
        for level, matcher in self._matchers:
            found = matcher.find(text)
            if found:
                words = ", ".join(sorted(found)[:3])
                return level, f"{level}: text mentions {words}"
        default = self._settings.categories[category].default_severity
        return default, f"{default}: default for {category}"


def is_high_value(company: Company | None, settings: Settings) -> tuple[bool, str]:
    """Whether the customer's plan or MRR makes the ticket more urgent, and why."""
    if company is None:
        return False, ""
    plans = {p.lower() for p in settings.thresholds.high_value_plans}
    if company.plan and company.plan.lower() in plans:
        return True, f"{company.plan} plan"
    if company.mrr is not None and company.mrr > settings.thresholds.high_value_mrr:
        return True, f"MRR {company.mrr:,.0f} above {settings.thresholds.high_value_mrr:,.0f}"
    return False, ""


def raise_levels(severity: str, levels: int) -> str:
    """``severity`` raised ``levels`` levels, P0 at most."""
    index = SEVERITIES.index(severity)
    return SEVERITIES[max(0, index - max(0, levels))]


@dataclass(frozen=True, slots=True)
class Fact:
    """One business-impact fact that counted: what it is, the points it adds, and why, in words."""

    factor: str  # value | sentiment | scope
    points: float
    detail: str


@dataclass(frozen=True, slots=True)
class Impact:
    """Business impact weighed on one ticket: the severity before and after, and the facts that counted."""

    base: str
    severity: str
    facts: tuple[Fact, ...] = ()

    @property
    def points(self) -> float:
        """The facts' points added up."""
        return round(sum(f.points for f in self.facts), 4)

    @property
    def reason(self) -> str | None:
        """``business impact raised P3 → P1 (2 points): high-value customer (Enterprise plan) +1, …``; None unraised."""
        if self.severity == self.base:
            return None
        facts = ", ".join(f"{f.detail} +{f.points:g}" for f in self.facts)
        return f"{IMPACT_PREFIX} raised {self.base} → {self.severity} ({self.points:g} points): {facts}"


# What a support ticket states as fact (something broken, a charge, "my account") reads negative to a
# model fitted on complaints, yet every bug report says it: only the customer's tone weighs on severity.
FACTUAL_CUES = frozenset({"broken", "not_working", "negation", "money", "mine", "recent"})


def read_sentiment(ticket: Ticket, *, floor: float = 0.0) -> SentimentReading:
    """How frustrated the ticket's tone reads, 0 to 1 (VADER and support cues, :mod:`frontline.decide.sentiment`).

    The cues that only state the problem (:data:`FACTUAL_CUES`) are left out, so "the export shows an
    error" reads calm and "third time I ask, still nobody answers, why?!" reads frustrated. VADER (the
    slow part) is consulted only when the cues could reach ``floor`` with its most negative tone; below
    that the score is the cues' alone, which VADER could only move within what stays below ``floor``.
    """
    from frontline.decide.sentiment import CUE_LABELS, WEIGHTS, SentimentModel, features, readable

    text = ticket.text[:SENTIMENT_TEXT_LIMIT]
    if not readable(text):
        return 0.0, "", ()
    model = SentimentModel()
    values = features(text, without=FACTUAL_CUES, vader=False)
    if model.score({**values, "vader_negative": 1.0}) >= floor:
        values = features(text, without=FACTUAL_CUES)
    cues = sorted((name for name, value in values.items() if value and name in CUE_LABELS and WEIGHTS[name] > 0),
                  key=lambda name: -WEIGHTS[name])
    return model.score(values), "", tuple(CUE_LABELS[name] for name in cues)


def sentiment_for(ticket: Ticket, settings: Settings) -> SentimentReading | None:
    """The ticket's tone as severity weighs it (:func:`read_sentiment`), or None when sentiment weighs nothing."""
    weights = settings.urgency
    floors = [at for at, weight in ((weights.negative_at, weights.negative), (weights.frustrated_at,
                                                                                weights.frustrated)) if weight]
    return read_sentiment(ticket, floor=min(floors)) if floors else None


def _value(company: Company | None, settings: Settings) -> Fact | None:
    """The customer's tier or revenue at risk, counted once: the larger of the two."""
    if company is None:
        return None
    weights, thresholds = settings.urgency, settings.thresholds
    found: list[Fact] = []
    plan = (company.plan or "").strip()
    if plan and plan.casefold() in {p.strip().casefold() for p in thresholds.high_value_plans} and weights.tier:
        found.append(Fact("value", weights.tier, f"high-value customer ({plan} plan)"))
    mrr = company.mrr
    if mrr is not None and mrr >= weights.critical_mrr and weights.critical_revenue:
        found.append(Fact("value", weights.critical_revenue,
                          f"revenue at risk (MRR {money(mrr)}, critical from {money(weights.critical_mrr)})"))
    elif mrr is not None and mrr > thresholds.high_value_mrr and weights.revenue:
        found.append(Fact("value", weights.revenue,
                          f"high-value customer (MRR {money(mrr)} above {money(thresholds.high_value_mrr)})"))
    return max(found, key=lambda f: f.points) if found else None


def _sentiment(reading: SentimentReading | None, settings: Settings) -> Fact | None:
    if reading is None:
        return None
    score, label, cues = reading
    weights = settings.urgency
    words = f": {', '.join(cues[:3])}" if cues else ""
    if score >= weights.frustrated_at and weights.frustrated:
        return Fact("sentiment", weights.frustrated, f"reads {label or 'frustrated'} ({score:.2f}{words})")
    if score >= weights.negative_at and weights.negative:
        return Fact("sentiment", weights.negative, f"reads {label or 'negative'} ({score:.2f}{words})")
    return None


def _scope(incident_size: int | None, settings: Settings) -> Fact | None:
    weights = settings.urgency
    if incident_size is None:
        return None
    if incident_size >= weights.scope_major and weights.major_scope:
        return Fact("scope", weights.major_scope, f"incident of {incident_size} customers")
    if incident_size >= weights.scope_min and weights.scope:
        return Fact("scope", weights.scope, f"incident of {incident_size} customers")
    return None


def weigh_impact(severity: str, settings: Settings, *, company: Company | None = None,
                 sentiment: SentimentReading | None = None, incident_size: int | None = None) -> Impact:
    """``severity`` raised by business impact: one level per whole point, at most ``urgency.max_raise``.

    ``sentiment`` is (negativity from 0 to 1, label, cues), as ``ticket_sentiment`` or
    :func:`read_sentiment` give it; ``incident_size`` the number of customers in the ticket's incident.
    """
    facts = tuple(fact for fact in (_value(company, settings), _sentiment(sentiment, settings),
                                    _scope(incident_size, settings)) if fact is not None)
    points = sum(f.points for f in facts)
    levels = min(settings.urgency.max_raise, math.floor(points + 1e-9))
    return Impact(severity, raise_levels(severity, levels), facts)


def urgent(severity: str, company: Company | None, settings: Settings) -> str | None:
    """Why a ticket of this severity and customer triggers the escalation protocol, or None when it does not."""
    protocol = settings.escalation_protocol
    if not protocol.enabled:
        return None
    if severity in protocol.severities:
        return f"{severity} ticket"
    if severity in protocol.high_value_severities:
        high, why = is_high_value(company, settings)
        if high:
            return f"{severity} ticket from a high-value customer ({why})"
    return None
