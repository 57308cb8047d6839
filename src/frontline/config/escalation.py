"""Escalation settings: the signals with their weights, the threshold, customer value and routing."""

from __future__ import annotations

from pydantic import Field, model_validator

from frontline.config.base import Strict

DEFAULT_KEYWORDS = (
    "cancel", "frustrated", "unacceptable", "terrible", "worst", "manager", "supervisor", "lawsuit", "legal",
    "refund", "ridiculous", "disappointed", "angry",
)


class KeywordSignal(Strict):
    """Frustration words in what the customer wrote (word boundaries, inflections, negation)."""

    weight: float = Field(default=0.4, ge=0.0, le=1.0)
    words: tuple[str, ...] = DEFAULT_KEYWORDS
    # Phrases where a keyword is not frustration ("account manager", "no need to cancel").
    ignore: tuple[str, ...] = (
        "account manager", "success manager", "customer success manager", "project manager", "product manager",
        "password manager", "manager role", "manager account", "office manager", "hiring manager",
        "legal name", "legal entity", "legal address", "legal department approved", "terms and legal",
    )


class HoursOpenSignal(Strict):
    """The conversation has been open a long time."""

    weight: float = Field(default=0.3, ge=0.0, le=1.0)
    hours: float = Field(default=24.0, gt=0.0)


class RepliesSignal(Strict):
    """The customer had to write many times."""

    weight: float = Field(default=0.3, ge=0.0, le=1.0)
    more_than: int = Field(default=3, ge=0)


class ReopenedSignal(Strict):
    """The conversation was closed and the customer came back."""

    weight: float = Field(default=0.2, ge=0.0, le=1.0)
    at_least: int = Field(default=1, ge=1)


class SentimentSignal(Strict):
    """How negative the customer's last message reads, and whether it got worse since the first."""

    frustrated_weight: float = Field(default=0.4, ge=0.0, le=1.0)
    negative_weight: float = Field(default=0.2, ge=0.0, le=1.0)
    worsening_weight: float = Field(default=0.1, ge=0.0, le=1.0)
    frustrated: float = Field(default=0.7, ge=0.0, le=1.0)  # negativity at or above: label "frustrated"
    negative: float = Field(default=0.4, ge=0.0, le=1.0)  # at or above: "negative"
    worsening: float = Field(default=0.3, ge=0.0, le=1.0)  # last minus first at or above: "worsening"

    @model_validator(mode="after")
    def _ordered(self) -> SentimentSignal:
        if self.negative > self.frustrated:
            raise ValueError("negative must not be above frustrated")
        return self


class Signals(Strict):
    """Every signal, each named, weighted and configurable."""

    keywords: KeywordSignal = Field(default_factory=KeywordSignal)
    hours_open: HoursOpenSignal = Field(default_factory=HoursOpenSignal)
    customer_replies: RepliesSignal = Field(default_factory=RepliesSignal)
    reopened: ReopenedSignal = Field(default_factory=ReopenedSignal)
    sentiment: SentimentSignal = Field(default_factory=SentimentSignal)


class EscalationRouting(Strict):
    """Where escalation alerts go by priority, and the fallback."""

    P0: str = "#customer-support"
    P1: str = "#support-engineering"
    fallback: str = "#support-triage"


class EscalationSettings(Strict):
    """The escalate flow."""

    threshold: float = Field(default=0.4, ge=0.0, le=5.0)
    signals: Signals = Field(default_factory=Signals)
    routing: EscalationRouting = Field(default_factory=EscalationRouting)
    # A conversation closed and reopened with new signals escalates again (a new issue and alert).
    reescalate: bool = False
    # Labels on every tracker issue, and a project per category (category → project id or name).
    labels: tuple[str, ...] = ("escalation",)
    projects: dict[str, str] = Field(default_factory=dict)
    # Conversations updated in the last N hours are read on a first run.
    lookback_hours: float = Field(default=72.0, gt=0.0)
