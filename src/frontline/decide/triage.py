"""Local deciders: keyword rules and the trained model, plus the finishing touches every
classifier's answer gets (severity weighed by business impact, abstention)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from frontline.config import Settings
from frontline.decide.severity import IMPACT_PREFIX, SentimentReading, SeverityRules, weigh_impact
from frontline.decide.text import KeywordMatcher, summarise
from frontline.model import Ticket, Triage

if TYPE_CHECKING:
    from frontline.decide.trained import TrainedModel

# The model reads the start of long tickets only: the intent is nearly always stated early,
# and a 1 MB pasted log would otherwise dominate the time and the features.
MODEL_TEXT_LIMIT = 6000
ABSTAIN_PREFIX = "confidence "  # how the abstain reason starts


def severity_model_path(model_path: Path) -> Path:
    """Where the optional severity model lives, next to the category model."""
    return model_path.with_name(f"{model_path.stem}.severity{model_path.suffix}")


class TriageBuilder:
    """Turns (category, confidence) into a full triage: severity, summary, suggested reply."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._severity = SeverityRules(settings)

    def build(self, ticket: Ticket, category: str, confidence: float, classifier: str,
              *, reasons: Sequence[str] = (), severity: tuple[str, str] | None = None) -> Triage:
        """A triage for ``ticket`` decided locally (``severity`` = (level, reason) when already known)."""
        severity_level, why = severity or self._severity.decide(ticket.text, category)
        return Triage(
            category=category,
            severity=severity_level,
            summary=summarise(ticket.subject, ticket.description),
            suggested_reply=template_reply(self._settings, ticket, category),
            confidence=round(float(confidence), 4),
            classifier=classifier,
            reasons=(*reasons, why),
        )


# A ticket sent for review has an unsure category: its reply promises nothing category-specific.
REVIEW_REPLY = "Thanks for getting in touch. We've passed your message to the right person, who will follow up shortly."
REVIEW_ARTICLES = "In the meantime, the articles below may help."


def template_reply(settings: Settings, ticket: Ticket, category: str, *, articles: bool = True,
                   review: bool = False) -> str:
    """The category's reply with the requester's first name, fitted to whether articles were found."""
    first_name = ticket.requester.name.split()[0] if ticket.requester.name.strip() else ""
    greeting = f"Hi {first_name}," if first_name else "Hi,"
    if review:
        body = f"{REVIEW_REPLY} {REVIEW_ARTICLES}" if articles else REVIEW_REPLY
    else:
        entry = settings.categories[category]
        body = entry.reply if articles or not entry.reply_without_articles else entry.reply_without_articles
    return f"{greeting}\n\n{body}".strip()


def fit_reply(triage: Triage, ticket: Ticket, settings: Settings, *, articles: bool, review: bool) -> Triage:
    """The triage with a reply that is honest about what was found, once the KB search is done.

    Only a reply made from the category's template is refitted; one an LLM wrote is left as it is.
    """
    if triage.suggested_reply != template_reply(settings, ticket, triage.category):
        return triage
    reply = template_reply(settings, ticket, triage.category, articles=articles, review=review)
    return triage if reply == triage.suggested_reply else triage.with_changes(suggested_reply=reply)


def weigh(triage: Triage, ticket: Ticket, settings: Settings, *, sentiment: SentimentReading | None = None,
          incident_size: int | None = None) -> Triage:
    """The triage with business impact weighed on its severity (:func:`~frontline.decide.severity.weigh_impact`).

    The customer's value always counts; ``sentiment`` (:func:`~frontline.decide.ticket_sentiment.ticket_sentiment`)
    and ``incident_size`` when given. Weighing again (the triage flow adds the sentiment, an incident
    its size) starts from the severity before the first weighing and replaces its reason, so nothing
    is raised twice.
    """
    base = triage.base_severity or triage.severity
    impact = weigh_impact(base, settings, company=ticket.company, sentiment=sentiment, incident_size=incident_size)
    reasons = [r for r in triage.reasons if not r.startswith(IMPACT_PREFIX)]
    if impact.reason:
        # Before the abstain reason, which stays last: a review alert shows the last reason as why.
        at = next((i for i, r in enumerate(reasons) if r.startswith(ABSTAIN_PREFIX)), len(reasons))
        reasons.insert(at, impact.reason)
    return triage.with_changes(severity=impact.severity, base_severity=base, reasons=tuple(reasons))


def finish(triage: Triage, ticket: Ticket, settings: Settings, abstain: float | None = None) -> Triage:
    """Apply business impact (the customer's value, :func:`weigh`) and the abstain threshold.

    ``abstain``: the threshold for this triage's confidence (the trained model's own,
    ``thresholds.model_abstain``); default ``thresholds.abstain``.
    """
    threshold = settings.thresholds.abstain if abstain is None else abstain
    triage = weigh(triage, ticket, settings)
    flags = list(triage.flags)
    reasons = list(triage.reasons)
    if triage.confidence < threshold and "abstained" not in flags:
        flags.append("abstained")
        reasons.append(
            f"{ABSTAIN_PREFIX}{triage.confidence:.2f} below abstain threshold {threshold:.2f}:"
            " sent for human review"
        )
    return triage.with_changes(flags=tuple(flags), reasons=tuple(reasons))


class RulesClassifier:
    """Keyword lists from the configuration, matched on word boundaries."""

    name = "rules"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._builder = TriageBuilder(settings)
        self._matchers = {
            name: KeywordMatcher(category.keywords) for name, category in settings.categories.items()
        }
        self._fallback = next(iter(settings.categories))

    def decide(self, ticket: Ticket) -> Triage:
        """Classify one ticket by keyword hits."""
        text = ticket.text[:MODEL_TEXT_LIMIT]
        hits = {name: matcher.find(text) for name, matcher in self._matchers.items()}
        ranked = sorted(hits.items(), key=lambda item: len(item[1]), reverse=True)
        best, best_hits = ranked[0]
        second = len(ranked[1][1]) if len(ranked) > 1 else 0
        top = len(best_hits)
        if top == 0:
            return self._builder.build(ticket, self._fallback, 0.0, self.name,
                                       reasons=("no category keyword matched",))
        # Keyword rules are crude, so their confidence is capped well below a trained model's.
        margin = (top - second) / top
        confidence = min(0.75, 0.25 + 0.15 * top) * (0.5 + 0.5 * margin)
        words = ", ".join(sorted(best_hits)[:4])
        return self._builder.build(ticket, best, confidence, self.name,
                                   reasons=(f"{best}: keywords {words}",))

    async def classify(self, tickets: Sequence[Ticket]) -> list[Triage]:
        """Classify a batch (finished with business impact and abstention)."""
        return [finish(self.decide(t), t, self._settings) for t in tickets]


class ModelClassifier:
    """The trained local model (TF-IDF n-grams → calibrated linear classifier)."""

    name = "model"

    def __init__(self, settings: Settings, model: TrainedModel, severity: TrainedModel | None = None) -> None:
        self._settings = settings
        self._model = model
        self._severity = severity
        self._builder = TriageBuilder(settings)
        # Trained on the same history, the two models featurise text identically: do it once.
        self._shared = severity is not None and severity.adopt_features(model)

    @property
    def scores(self) -> dict[str, float]:
        """The category model's training scores (cross-validated accuracy and log loss)."""
        return dict(self._model.meta.scores)

    def decide(self, tickets: Sequence[Ticket]) -> list[Triage]:
        """Classify a batch in one vectorised call (category, and severity when a severity model exists)."""
        if not tickets:
            return []
        texts = [t.text[:MODEL_TEXT_LIMIT] for t in tickets]
        levels: list[tuple[str, str] | None] = [None] * len(tickets)
        if self._severity is not None and self._shared:
            features = self._model.features(texts)
            predictions = self._model.predict_features(features)
            severities = self._severity.predict_features(features)
        else:
            predictions = self._model.predict(texts)
            severities = self._severity.predict(texts) if self._severity is not None else []
        if self._severity is not None:
            levels = [(level, f"{level}: severity model probability {p:.2f}") for level, p in severities]
        return [
            self._builder.build(ticket, label, confidence, self.name, severity=level,
                                reasons=(f"{label}: model probability {confidence:.2f}",))
            for ticket, (label, confidence), level in zip(tickets, predictions, levels, strict=True)
        ]

    async def classify(self, tickets: Sequence[Ticket]) -> list[Triage]:
        """Classify a batch (finished with business impact and the model's own abstain threshold)."""
        abstain = self._settings.thresholds.model_abstain
        return [finish(t, ticket, self._settings, abstain) for t, ticket in zip(self.decide(tickets), tickets,
                                                                                strict=True)]
