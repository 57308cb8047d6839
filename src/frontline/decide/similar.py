"""Finding earlier similar tickets: the protocol triage's incidents step uses, and its FTS-less fallback.

A :class:`SimilarFinder` answers, for a ticket, the most similar *earlier* tickets (created no later
than it) with a score in [0, 1], and learns each ticket triaged (:meth:`SimilarFinder.add`). The
semantic finder (an encoder with FTS5) plugs in here; :class:`TermFinder` is the fallback without
any index: Jaccard similarity of the ticket's term sets (subject and body, lower-cased, stop words
and very short tokens left out), found through an inverted index so only tickets sharing a term are
scored.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol

from frontline.model import Ticket

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
STOP_WORDS = frozenset("""
a about after again all also am an and any are as at be been before being but by can cannot could did do does
doing don dont for from had has have having he her here hi hello his how i if in into is it its itself just me
more most my no nor not now of off on once only or other our out over own please same she should so some such
than thank thanks that the their them then there these they this those through to too under until up very was
we were what when where which while who why will with would you your yours team hey regards best cheers today
get got since still again anyone know let us any one see
""".split())
MAX_TERMS = 64  # a long body is compared by its first terms: the subject and opening say what it is about
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SimilarFinder(Protocol):
    """Scores of the earlier tickets most similar to a ticket; learns the tickets triaged."""

    def similar(self, ticket: Ticket, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (ticket id, score in [0, 1]) among tickets created no later than ``ticket``, best first."""
        ...

    def add(self, ticket: Ticket) -> None:
        """Remember ``ticket`` as a candidate for later tickets."""
        ...


def terms(text: str) -> frozenset[str]:
    """The distinct terms of ``text`` a similarity is measured on (at most :data:`MAX_TERMS`)."""
    found: dict[str, None] = {}
    for token in _TOKEN.findall(text.lower()):
        if len(token) < 3 and not token.isdigit():
            continue
        if token in STOP_WORDS:
            continue
        found[_stem(token)] = None
        if len(found) >= MAX_TERMS:
            break
    return frozenset(found)


def _stem(token: str) -> str:
    """A light suffix strip, so "failing", "failed" and "fails" meet."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(token) > len(suffix) + 3 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


def ticket_terms(ticket: Ticket) -> frozenset[str]:
    """The terms of a ticket's subject and body."""
    return terms(f"{ticket.subject}\n{ticket.description}")


class TermFinder:
    """The fallback :class:`SimilarFinder`: Jaccard similarity of term sets over an inverted index."""

    def __init__(self) -> None:
        self._terms: dict[str, frozenset[str]] = {}
        self._created: dict[str, datetime] = {}
        self._index: dict[str, set[str]] = defaultdict(set)

    def remember(self, ticket_id: str, created_at: datetime | None, words: Iterable[str]) -> None:
        """Add a ticket by its stored terms (a finder rebuilt from the state store)."""
        words = frozenset(words)
        old = self._terms.get(ticket_id)
        if old is not None:
            for word in old - words:
                self._index[word].discard(ticket_id)
        self._terms[ticket_id] = words
        self._created[ticket_id] = created_at or _EPOCH
        for word in words:
            self._index[word].add(ticket_id)

    def add(self, ticket: Ticket) -> None:
        """Remember ``ticket``."""
        self.remember(ticket.id, ticket.created_at, ticket_terms(ticket))

    def similar(self, ticket: Ticket, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` earlier tickets by Jaccard similarity of terms, best first (ties: the earlier first)."""
        words = ticket_terms(ticket)
        if not words:
            return []
        when = ticket.created_at or datetime.max.replace(tzinfo=UTC)
        shared: dict[str, int] = defaultdict(int)
        for word in words:
            for other in self._index.get(word, ()):
                shared[other] += 1
        scored = []
        for other, common in shared.items():
            if other == ticket.id or self._created[other] > when:
                continue
            union = len(words) + len(self._terms[other]) - common
            scored.append((common / union, self._created[other], other))
        scored.sort(key=lambda item: (-item[0], item[1], item[2]))
        return [(other, round(score, 4)) for score, _, other in scored[:k]]
