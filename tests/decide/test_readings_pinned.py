"""Triage's per-ticket readings pinned to the values they had before they were made faster (issue 13).

Severity's tone (:func:`frontline.decide.severity.sentiment_for`) and the note's customer sentiment
(:func:`frontline.decide.ticket_sentiment.ticket_sentiment`) read the same text with VADER; sharing
that reading must not move either result by a digit, whichever is read first. Language detection's
text cleaning was made cheaper: the same texts must get the same languages and confidences.
"""

from __future__ import annotations

import pytest

from frontline.config import Settings
from frontline.decide.language import detect
from frontline.decide.severity import sentiment_for
from frontline.decide.signals import EscalationScorer
from frontline.decide.ticket_sentiment import ticket_sentiment
from frontline.model import Author, Message, Ticket

ANGRY = ("This is the third time I am asking and still nobody answers. Why is this still not working?! "
         "Absolutely unacceptable, we are furious.")
TICKETS = [
    Ticket("calm", "Export", "How do I export my invoices to CSV? Thanks!"),
    Ticket("angry", "Still broken!!", ANGRY),
    Ticket("factual", "Export error", "The export shows an error when I pick last month. My account is on Pro."),
    Ticket("not-angry", "Question", "I'm not angry, no rush at all, just wondering when the new report ships :)"),
    Ticket("html", "Charged <b>twice</b>", "<p>I was <b>charged twice</b> for my subscription!! Refund please.</p>"),
    Ticket("links", "Login", "Can't log in since yesterday, see https://example.com/x @support #help why?"),
    Ticket("empty", "", "   "),
    Ticket("subject-only", "Where is my order???", ""),
    Ticket("thread", "Sync", "It stopped syncing.", messages=(
        Message(Author.CUSTOMER, "It stopped syncing."),
        Message(Author.AGENT, "Have you tried turning it off and on?"),
        Message(Author.CUSTOMER, "Yes, twice. Still nothing, and nobody called back. Fed up :("),
    )),
    Ticket("quoted", "Re: refund", "Thanks, that worked!\n\nOn Mon, 1 Jan 2026, Support wrote:\n> Why is it broken",
           messages=(Message(Author.CUSTOMER,
                             "Thanks, that worked!\n\nOn Mon, 1 Jan 2026, Support wrote:\n> Why is it broken"),)),
    Ticket("long", "Slow dashboard", "The dashboard is slow. " * 300 + "Why?! This is terrible, fix it please."),
    Ticket("sarcasm", "Great job", "Thanks for nothing. Great job, your update wiped my settings again."),
]

# (severity's reading, the note's TicketSentiment) per ticket, as the code read them before issue 13.
EXPECTED: list[tuple[object, tuple[object, ...]]] = [
    ((0.267, "", ()), (0.2075, "neutral", ())),
    (
        (
            0.9995,
            "",
            ("asks why", "harsh words", "still waiting", "not the first time", "no answer", '"!!" or "?!"'),
        ),
        (
            1.0,
            "frustrated",
            (
                'keywords: "unacceptable" in the customer\'s message, "furious" in the customer\'s message',
                "sentiment: frustrated (1.00) in the customer's message: asks why, harsh words, still waiting, "
                "not the first time, something broken, can't / doesn't work, negation, no answer, \"!!\" or "
                '"?!"',
            ),
        ),
    ),
    (
        (0.3589, "", ()),
        (
            0.9507,
            "frustrated",
            (
                "sentiment: frustrated (0.95) in the customer's message: their order or account, something "
                "broken, recent purchase or date",
            ),
        ),
    ),
    ((0.3589, "", ()), (0.2512, "neutral", ())),
    (
        (0.505, "", ('"!!" or "?!"',)),
        (
            0.9683,
            "frustrated",
            (
                'keywords: "refund" in the customer\'s message',
                "sentiment: frustrated (0.97) in the customer's message: their order or account, something "
                'broken, money, "!!" or "?!"',
            ),
        ),
    ),
    (
        (0.9341, "", ("asks why", "still waiting")),
        (
            0.9941,
            "frustrated",
            (
                "sentiment: frustrated (0.99) in the customer's message: asks why, still waiting, can't / doesn't "
                "work, negation, recent purchase or date",
            ),
        ),
    ),
    ((0.0, "", ()), (0.0, "unknown", ())),
    (
        (0.8416, "", ("asks where / when", '"!!" or "?!"')),
        (
            0.9493,
            "frustrated",
            (
                "sentiment: frustrated (0.95) in the customer's message: asks where / when, their order or "
                'account, "!!" or "?!"',
            ),
        ),
    ),
    (
        (0.3589, "", ()),
        (
            0.9924,
            "frustrated",
            (
                'keywords: "fed up" in the customer\'s 2nd message',
                "sentiment: frustrated (0.99) in the customer's last message: harsh words, still waiting, "
                "negation, no answer, sad or angry face, tried to reach you",
                "sentiment_worsening: frustrated (0.99), worse than the first message (0.60)",
            ),
        ),
    ),
    ((0.7168, "", ("asks why",)), (0.3682, "neutral", ('keywords: "refund" in the customer\'s message',))),
    (
        (0.3589, "", ()),
        (
            0.9988,
            "frustrated",
            (
                'keywords: "terrible" in the customer\'s message',
                "sentiment: frustrated (1.00) in the customer's message: asks why, harsh words, asks for a fix, "
                'something broken, "!!" or "?!"',
            ),
        ),
    ),
    (
        (0.6248, "", ("not the first time", "sarcasm")),
        (
            0.7323,
            "frustrated",
            ("sentiment: frustrated (0.73) in the customer's message: not the first time, negation, sarcasm",),
        ),
    ),
]

LANGUAGE_TEXTS = [
    "Ich kann mich seit gestern nicht mehr in mein Konto einloggen.",
    "Où est ma commande ? J'attends depuis deux semaines.",
    "<p>Hola, no puedo <b>descargar</b> mi factura de https://example.com/f/123 desde ayer.</p>",
    "ok thx",
    "Mail me at jane.doe+x@example.com or @jane, order 12345 #urgent, still waiting",
    "注文した商品がまだ届いていません。確認してください。",
    "Hello  \n\n  there,   my\tinvoice is wrong " * 40,
    "The app crashes when I open settings on Android 14.",
]

LANGUAGES: list[tuple[object, ...]] = [
    ("de", 0.9999, ""),
    ("fr", 0.9964, ""),
    ("es", 0.9803, ""),
    (None, 0.0, "too short to tell (5 letters, 10 needed)"),
    ("en", 0.9148, ""),
    ("ja", 1.0, ""),
    ("en", 0.9804, ""),
    (None, 0.6498, "unsure (best guess en at 0.65, 0.70 needed)"),
]


@pytest.fixture(scope="module")
def scorer() -> EscalationScorer:
    return EscalationScorer(Settings(), learned=None)


@pytest.mark.parametrize("index", range(len(TICKETS)))
def test_severity_then_note_read_as_before(index: int, scorer: EscalationScorer) -> None:
    ticket = TICKETS[index]
    tone = sentiment_for(ticket, Settings())
    note = tuple(ticket_sentiment(ticket, scorer))
    assert (tone, note) == EXPECTED[index]


@pytest.mark.parametrize("index", range(len(TICKETS)))
def test_note_then_severity_read_as_before(index: int, scorer: EscalationScorer) -> None:
    ticket = TICKETS[index]
    note = tuple(ticket_sentiment(ticket, scorer))
    tone = sentiment_for(ticket, Settings())
    assert (tone, note) == EXPECTED[index]


@pytest.mark.parametrize("index", range(len(LANGUAGE_TEXTS)))
def test_language_detected_as_before(index: int) -> None:
    found = detect(LANGUAGE_TEXTS[index])
    assert (found.code, found.confidence, found.reason) == LANGUAGES[index]
