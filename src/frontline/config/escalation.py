"""Escalation settings: the signals with their weights, the threshold, customer value and routing."""

from __future__ import annotations

from pydantic import Field, model_validator

from frontline.config.base import Strict

# Each word stands for its inflections (cancel: cancels, cancelled, canceling, cancellation …); a phrase
# may hold "*" for up to two words in between ("speak * manager": "speak to your manager").
DEFAULT_KEYWORDS = (
    # churn and money back
    "cancel", "refund", "money back", "chargeback", "close my account", "delete my account", "not renew",
    # asking for someone above support, or outside it
    "speak * manager", "talk * manager", "your manager", "a manager", "manager please", "speak * supervisor",
    "talk * supervisor", "your supervisor", "supervisor please", "escalate", "lawsuit", "lawyer", "attorney", "legal",
    "ombudsman", "complain", "formal complaint", "file a complaint",
    # frustration
    "frustrated", "disappointed", "angry", "furious", "fed up", "sick of", "unhappy", "disgusted",
    "unacceptable", "terrible", "worst", "awful", "horrible", "appalling", "shocking", "ridiculous", "useless",
    "pathetic", "incompetent", "unprofessional", "disgraceful", "shambles", "rubbish", "scam", "rip off",
    "waste of time", "waste of money",
)


class KeywordSignal(Strict):
    """Frustration words in what the customer wrote (word boundaries, inflections, negation)."""

    weight: float = Field(default=0.4, ge=0.0, le=1.0)
    words: tuple[str, ...] = DEFAULT_KEYWORDS
    # Phrases where a keyword is not frustration (negation such as "no need to cancel" is handled apart).
    # Naming the Cancel button of a dialog is a how-to about the interface; asking how to cancel counts.
    ignore: tuple[str, ...] = (
        "account manager", "success manager", "customer success manager", "project manager", "product manager",
        "password manager", "manager role", "manager account", "office manager", "hiring manager",
        "my manager", "our manager", "manager dashboard", "manager view", "manager app",
        "legal name", "legal entity", "legal address", "legal department approved", "terms and legal", "legal reasons",
        "legally required", "legal requirement", "legal hold",
        "cancel button", "cancel icon", "cancel key", "click cancel", "clicked cancel", "press cancel",
        "pressed cancel", "hit cancel", "tap cancel", "tapped cancel", "select cancel",
        # cancelling a thing in the product, not the product: "cancel the import", "cancel a scheduled invoice"
        "cancel * upload", "cancel * import", "cancel * export", "cancel * download", "cancel * sync",
        "cancel * job", "cancel * invitation", "cancel * invite", "cancel * timer", "cancel * task",
        "cancel * meeting", "cancel * event", "cancel * submission", "cancel * invoice", "cancel * estimate",
        "cancel * schedule", "cancel * project", "meeting * cancel", "event * cancel",
        "worst case", "at worst", "terrible twos",
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


class LearnedSignal(Strict):
    """A model of escalation trained on the team's own labelled messages (`frontline train --escalation`).

    On when its model file exists. It reads the sentiment model's inputs itself, so while it is on
    the sentiment label no longer adds its own weight (the worsening trend still does).
    """

    weight: float = Field(default=0.4, ge=0.0, le=1.0)
    # Probability at or above which a message reads as an escalation (default: the model's own, 0.5).
    at_least: float | None = Field(default=None, gt=0.0, lt=1.0)
    model_path: str = "escalation-model.joblib"  # inside the workspace unless absolute
    # Sentence encoder used when training: "auto" (bundled all-MiniLM-L6-v2 with frontline[embeddings]),
    # "off", a sentence-transformers model folder, or a model name in the local Hugging Face cache.
    embeddings: str = "auto"
    # With an encoder, also fine-tune it on the labelled messages (minutes of CPU; about +0.04 F1).
    finetune: bool = True


class Signals(Strict):
    """Every signal, each named, weighted and configurable."""

    keywords: KeywordSignal = Field(default_factory=KeywordSignal)
    hours_open: HoursOpenSignal = Field(default_factory=HoursOpenSignal)
    customer_replies: RepliesSignal = Field(default_factory=RepliesSignal)
    reopened: ReopenedSignal = Field(default_factory=ReopenedSignal)
    sentiment: SentimentSignal = Field(default_factory=SentimentSignal)
    learned: LearnedSignal = Field(default_factory=LearnedSignal)


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
