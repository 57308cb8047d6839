"""How a ticket's customer sounds: the escalation flow's sentiment and text signals, read on a ticket.

The customer's own public messages (the subject read with the first one) go through the same
scorer as an Intercom conversation's (:class:`frontline.decide.signals.EscalationScorer`): VADER
with the support cues, the configured keywords, a worsening tone, and the learned signal when its
model is on. Agents' replies and private notes never count.
"""

from __future__ import annotations

from typing import NamedTuple

from frontline.decide.signals import EscalationScorer
from frontline.model import Author, Ticket

NO_TEXT = "unknown"  # the label of a ticket whose customer wrote nothing readable


class TicketSentiment(NamedTuple):
    """The customer's tone: negativity of their latest message (0 to 1), its label, and the signals behind it."""

    score: float
    label: str  # frustrated | negative | neutral | positive | unknown
    reasons: tuple[str, ...]

    def describe(self) -> str:
        """``frustrated (0.91): keywords: "cancel" in …; sentiment: …`` for a note."""
        if self.label == NO_TEXT:
            return "not scored (no customer text)"
        return f"{self.label} ({self.score:.2f})" + (f": {'; '.join(self.reasons)}" if self.reasons else "")

    def to_dict(self) -> dict[str, object]:
        """Stored with the triage decision's fields."""
        return {"score": self.score, "label": self.label, "reasons": list(self.reasons)}


def customer_messages(ticket: Ticket) -> list[str]:
    """What the customer wrote on ``ticket``, oldest first, the subject in front of the first message."""
    said = [m.body for m in ticket.messages if m.author is Author.CUSTOMER and m.public and m.body.strip()]
    if not said and ticket.description.strip():
        said = [ticket.description]
    if ticket.subject.strip():
        said = [f"{ticket.subject}\n{said[0]}" if said else ticket.subject, *said[1:]]
    return said


_DEFAULT: list[EscalationScorer] = []


def _default_scorer() -> EscalationScorer:
    if not _DEFAULT:
        from frontline.config import Settings

        _DEFAULT.append(EscalationScorer(Settings(), learned=None))
    return _DEFAULT[0]


def ticket_sentiment(ticket: Ticket, scorer: EscalationScorer | None = None) -> TicketSentiment:
    """The customer's tone on ``ticket`` (build the ``scorer`` from the team's settings; default: built-in ones)."""
    signals, sentiment = (scorer or _default_scorer()).score_messages(customer_messages(ticket))
    if sentiment is None:
        return TicketSentiment(0.0, NO_TEXT, ())
    return TicketSentiment(round(sentiment.last, 4), sentiment.label,
                           tuple(f"{signal.name}: {signal.detail}" for signal in signals))
