"""Escalation signals: each named, weighted from settings, and explained when it fires.

    keywords            frustration and churn words in what the customer wrote (see decide.keywords)
    hours_open          open or snoozed longer than ``hours``
    customer_replies    more than ``more_than`` customer messages
    reopened            closed and reopened at least ``at_least`` times
    sentiment           the customer's last message reads frustrated or negative (see decide.sentiment)
    sentiment_worsening the last message reads worse than the first by ``worsening`` or more
    learned             a customer message reads like an escalation to the model trained on the team's
                        own labelled messages (see decide.learned; on when its model file exists, and
                        then it stands in for the ``sentiment`` label, whose inputs it reads itself)

The score is the sum of the fired weights; the conversation escalates when it reaches the
threshold. Only what the customer wrote counts: agent replies, bot messages and notes never do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from frontline.config import Settings
from frontline.decide.keywords import KeywordHit, KeywordSpotter
from frontline.decide.sentiment import Reading, SentimentModel
from frontline.decide.text import own_words
from frontline.decide.value import customer_value
from frontline.model import Author, Conversation, Escalation, Part, Sentiment, Signal

if TYPE_CHECKING:
    from frontline.decide.learned import EscalationModel

OPEN_STATES = frozenset({"open", "snoozed"})
# The learned signal reads at most this many of the customer's latest messages.
LEARNED_MESSAGES = 20
_CONFIGURED: Any = object()  # "load the learned model the settings name, if its file exists"


def learned_model(settings: Settings) -> EscalationModel | None:
    """The trained escalation model the settings name, or None when its file does not exist."""
    path = settings.path(settings.escalation.signals.learned.model_path)
    if not path.exists():
        return None
    from frontline.decide.learned import EscalationModel

    return EscalationModel.load(path)


def ordinal(number: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``11th``, ``22nd``."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th')}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


class EscalationScorer:
    """Scores conversations against the configured signals; build one per settings and reuse it."""

    def __init__(self, settings: Settings, sentiment: SentimentModel | None = None,
                 learned: EscalationModel | None = _CONFIGURED) -> None:
        self._settings = settings
        self._signals = settings.escalation.signals
        keywords = self._signals.keywords
        self._spotter = KeywordSpotter(keywords.words, keywords.ignore)
        self._sentiment = sentiment or SentimentModel()
        self.learned: EscalationModel | None = learned_model(settings) if learned is _CONFIGURED else learned

    @property
    def learned_threshold(self) -> float:
        """The probability at which the learned signal fires (configured, else the model's own)."""
        configured = self._signals.learned.at_least
        if configured is not None:
            return configured
        return self.learned.threshold if self.learned is not None else 0.5

    # -- the whole conversation ------------------------------------------------------------------
    def score(self, conversation: Conversation, now: datetime) -> Escalation:
        """Every signal on ``conversation`` as of ``now``, the customer's value, and whether to escalate."""
        # Only the customer's own words: an email reply's quoted agent message is not what they said.
        messages = [replace(m, body=own_words(m.body)) for m in conversation.customer_messages()]
        messages = [m for m in messages if m.body]
        fired: list[Signal] = []
        text_signals, sentiment = self._text_signals(messages)
        fired.extend(text_signals[:1])  # keywords first, then the conversation's shape, then tone
        fired.extend(signal for signal in (self._hours_open(conversation, now), self._replies(messages),
                                           self._reopened(conversation)) if signal is not None)
        fired.extend(text_signals[1:])
        fired = [signal for signal in fired if signal.weight > 0]
        total = round(sum(signal.weight for signal in fired), 4)
        return Escalation(
            score=total,
            signals=tuple(fired),
            escalate=total >= round(self._settings.escalation.threshold, 4),
            value=customer_value(conversation.company, self._settings, missing_reason=conversation.company_note),
            sentiment=sentiment,
        )

    def score_text(self, text: str) -> tuple[float, tuple[Signal, ...]]:
        """The text signals alone (keywords and sentiment) of ``text`` read as one customer message."""
        message = Part(Author.CUSTOMER, own_words(text))
        signals, _ = self._text_signals([message] if message.body else [])
        fired = tuple(signal for signal in signals if signal.weight > 0)
        return round(sum(signal.weight for signal in fired), 4), fired

    def score_messages(self, bodies: Sequence[str]) -> tuple[tuple[Signal, ...], Sentiment | None]:
        """The text signals (keywords, sentiment, worsening, learned) of a customer's messages, oldest first.

        A ticket's thread is read this way: its shape (hours open, replies, reopens) is the
        escalation flow's business, its words are everyone's.
        """
        messages = [Part(Author.CUSTOMER, own_words(body)) for body in bodies]
        signals, sentiment = self._text_signals([m for m in messages if m.body])
        return tuple(signal for signal in signals if signal.weight > 0), sentiment

    def keyword_hits(self, text: str) -> list[KeywordHit]:
        """The configured keywords ``text`` really says (inflected, not negated, not in an ignored phrase)."""
        return self._spotter.find(text)

    def read(self, text: str) -> Reading:
        """How ``text`` reads to the sentiment model."""
        return self._sentiment.read(text)

    def escalates_text(self, text: str) -> bool:
        """Whether the text signals of ``text`` alone reach the escalation threshold."""
        return self.score_text(text)[0] >= round(self._settings.escalation.threshold, 4)

    # -- signals ---------------------------------------------------------------------------------
    def _text_signals(self, messages: Sequence[Part]) -> tuple[list[Signal], Sentiment | None]:
        """Keywords (always first in the list when fired) and the sentiment signals."""
        fired: list[Signal] = []
        keywords = self._keywords(messages)
        if keywords is not None:
            fired.append(keywords)
        if not messages:
            return fired, None
        first = self._sentiment.read(messages[0].body)
        last = first if len(messages) == 1 else self._sentiment.read(messages[-1].body)
        sentiment = Sentiment(self._label(last.negativity), first.negativity, last.negativity)
        learned = self._learned(messages)
        if learned is not None:
            fired.append(learned)
        fired.extend(self._tone(sentiment, last, single=len(messages) == 1, label=self.learned is None))
        return fired, sentiment

    def _learned(self, messages: Sequence[Part]) -> Signal | None:
        if self.learned is None:
            return None
        start = max(0, len(messages) - LEARNED_MESSAGES)
        probabilities = self.learned.predict_proba([m.body for m in messages[start:]])
        best = int(probabilities.argmax())
        probability = float(probabilities[best])
        threshold = self.learned_threshold
        if probability < threshold:
            return None
        where = ("the customer's message" if len(messages) == 1
                 else f"the customer's {ordinal(start + best + 1)} message")
        return Signal("learned", self._signals.learned.weight,
                      f"{where} reads like an escalation ({probability:.2f} ≥ {threshold:.2f}) to the model "
                      f"{self.learned.meta.describe()}")

    def _keywords(self, messages: Sequence[Part]) -> Signal | None:
        settings = self._signals.keywords
        found: list[tuple[int, KeywordHit]] = []
        for number, message in enumerate(messages, start=1):
            found.extend((number, hit) for hit in self._spotter.find(message.body))
        if not found:
            return None
        shown: list[str] = []
        seen: set[str] = set()
        for number, hit in found:
            if hit.found in seen:
                continue
            seen.add(hit.found)
            if len(messages) == 1:
                where = "in the customer's message"
            elif not shown:
                where = f"in the customer's {ordinal(number)} message"
            else:
                where = f"in the {ordinal(number)}"
            shown.append(f'"{hit.found}" {where}')
        more = len(shown) - 3
        detail = ", ".join(shown[:3]) + (f" and {more} more" if more > 0 else "")
        return Signal("keywords", settings.weight, detail)

    def _hours_open(self, conversation: Conversation, now: datetime) -> Signal | None:
        settings = self._signals.hours_open
        if conversation.state not in OPEN_STATES or conversation.created_at is None:
            return None
        hours = (_aware(now) - _aware(conversation.created_at)).total_seconds() / 3600
        if hours <= settings.hours:
            return None
        state = "" if conversation.state == "open" else f" ({conversation.state})"
        return Signal("hours_open", settings.weight, f"open {hours:.0f} h{state} (over {settings.hours:g} h)")

    def _replies(self, messages: Sequence[Part]) -> Signal | None:
        settings = self._signals.customer_replies
        if len(messages) <= settings.more_than:
            return None
        return Signal("customer_replies", settings.weight,
                      f"{len(messages)} customer replies (more than {settings.more_than})")

    def _reopened(self, conversation: Conversation) -> Signal | None:
        settings = self._signals.reopened
        if conversation.reopened < settings.at_least:
            return None
        return Signal("reopened", settings.weight, f"reopened {_times(conversation.reopened)}")

    def _label(self, negativity: float) -> str:
        settings = self._signals.sentiment
        if negativity >= settings.frustrated:
            return "frustrated"
        if negativity >= settings.negative:
            return "negative"
        return "positive" if negativity < settings.negative / 2 else "neutral"

    def _tone(self, sentiment: Sentiment, last: Reading, *, single: bool, label: bool = True) -> list[Signal]:
        settings = self._signals.sentiment
        fired: list[Signal] = []
        which = "the customer's message" if single else "the customer's last message"
        cues = f": {last.describe()}" if last.cues else ""
        # With ``label`` off the learned signal, which reads the same inputs, stands in for the label.
        if label and sentiment.label == "frustrated":
            fired.append(Signal("sentiment", settings.frustrated_weight,
                                f"frustrated ({sentiment.last:.2f}) in {which}{cues}"))
        elif label and sentiment.label == "negative":
            fired.append(Signal("sentiment", settings.negative_weight,
                                f"negative ({sentiment.last:.2f}) in {which}{cues}"))
        if not single and round(sentiment.trend, 4) >= settings.worsening:
            fired.append(Signal("sentiment_worsening", settings.worsening_weight,
                                f"{sentiment.label} ({sentiment.last:.2f}), worse than the first message "
                                f"({sentiment.first:.2f})"))
        return fired


def score(conversation: Conversation, settings: Settings, now: datetime) -> Escalation:
    """Score one conversation (builds a scorer; reuse an ``EscalationScorer`` for many)."""
    return EscalationScorer(settings).score(conversation, now)


# -- measuring the text signals on labelled messages (`frontline eval --signals`) -----------------
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True, slots=True)
class BinaryScores:
    """A binary detector's confusion counts and the usual ratios (positive class)."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        """How many examples."""
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        """Of those flagged, the share that were positive."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Of the positives, the share flagged."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        """Share of examples decided right."""
        return (self.tp + self.tn) / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, float | int]:
        """Rounded ratios and the counts."""
        return {"n": self.n, "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "accuracy": round(self.accuracy, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn}


def binary_scores(predicted: Sequence[bool], gold: Sequence[bool]) -> BinaryScores:
    """Compare predictions with gold labels position by position."""
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predictions for {len(gold)} gold labels")
    pairs = list(zip(predicted, gold, strict=True))
    return BinaryScores(tp=sum(p and g for p, g in pairs), fp=sum(p and not g for p, g in pairs),
                        fn=sum(g and not p for p, g in pairs), tn=sum(not p and not g for p, g in pairs))


LEARNED_SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)


def evaluate_text_signals(texts: Sequence[str], gold: Sequence[bool], settings: Settings,
                          sweep: Sequence[float] | None = None, *,
                          learned: EscalationModel | None = _CONFIGURED,
                          learned_probabilities: Sequence[float] | None = None) -> dict[str, Any]:
    """Each text as one customer message: do its text signals reach the threshold? Scored against gold.

    The text signals are the keywords and either the sentiment label or, when a learned model is
    on (``learned``: the configured one by default), the learned signal. ``learned_probabilities``
    gives the learned signal's probability per text instead of a model (cross-validation passes
    out-of-fold ones). Besides the configured operating point, ``sweep`` re-decides at other levels
    of the one knob that moves precision against recall (``sentiment.frustrated``, or
    ``learned.at_least`` when the learned signal is on) so a team can pick its own.
    """
    scorer = EscalationScorer(settings, learned=None if learned_probabilities is not None else learned)
    config = settings.escalation
    signals = config.signals
    threshold = round(config.threshold, 4)
    own = [own_words(text) for text in texts]  # as score_text reads a message
    keyword_flags = [bool(text) and bool(scorer.keyword_hits(text)) for text in own]
    probabilities: list[float] | None = None
    if learned_probabilities is not None:
        probabilities = [float(p) for p in learned_probabilities]
    elif scorer.learned is not None:
        read = scorer.learned.predict_proba([text for text in own if text])
        it = iter(read.tolist())
        probabilities = [next(it) if text else 0.0 for text in own]
    # The sentiment label only decides when the learned signal does not stand in for it.
    readings = [scorer.read(text).negativity if text and probabilities is None else 0.0 for text in own]
    at_least = signals.learned.at_least if signals.learned.at_least is not None else (
        scorer.learned_threshold if scorer.learned is not None else 0.5)

    def decide(frustrated: float, level: float) -> list[bool]:
        negative = min(signals.sentiment.negative, frustrated)
        decided = []
        for i, (keyword, negativity) in enumerate(zip(keyword_flags, readings, strict=True)):
            total = signals.keywords.weight if keyword else 0.0
            if probabilities is not None:
                total += signals.learned.weight if probabilities[i] >= level else 0.0
            elif negativity >= frustrated:
                total += signals.sentiment.frustrated_weight
            elif negativity >= negative:
                total += signals.sentiment.negative_weight
            decided.append(round(total, 4) >= threshold)
        return decided

    predicted = decide(signals.sentiment.frustrated, at_least)
    scores = binary_scores(predicted, gold)
    result: dict[str, Any] = scores.to_dict()
    baseline = binary_scores([True] * len(gold), gold)
    fired: dict[str, int] = {"keywords": sum(keyword_flags)}
    if probabilities is None:
        fired.update(frustrated=sum(n >= signals.sentiment.frustrated for n in readings),
                     negative=sum(signals.sentiment.negative <= n < signals.sentiment.frustrated for n in readings))
        knob = "frustrated"
        levels = [(level, decide(level, at_least)) for level in (sweep or SWEEP)]
    else:
        fired["learned"] = sum(p >= at_least for p in probabilities)
        knob = "at_least"
        levels = [(level, decide(signals.sentiment.frustrated, level)) for level in (sweep or LEARNED_SWEEP)]
    result.update({
        "threshold": config.threshold,
        "positives": sum(gold),
        "flagged": sum(predicted),
        "baseline_f1": round(baseline.f1, 4),  # flagging every message
        "signals": ["keywords", "learned" if probabilities is not None else "sentiment"],
        "fired": fired,
        "sweep_knob": knob,
        "sweep": [{knob: level, **{k: v for k, v in binary_scores(decided, gold).to_dict().items()
                                   if k in ("precision", "recall", "f1")}} for level, decided in levels],
    })
    if probabilities is not None:
        result["learned"] = {"at_least": at_least, **({"model": scorer.learned.meta.to_dict()}
                                                      if scorer.learned is not None else {})}
    return result
