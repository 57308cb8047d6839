"""The duplicate finder: for a ticket, the most similar *earlier* tickets, with scores.

Each ticket is read twice by the encoder, as its summary and as summary + description; two tickets
are as similar as the closer of the two readings (``max(cos(summary), cos(full))``: a one-line
subject often says it best, a long description sometimes only in its second paragraph). The
lexical part is BM25 of the full text, divided by what the query would score against itself, so
it means the same for a short ticket and a long one (see :mod:`frontline.decide.retrieval`).

Only earlier tickets are candidates (time-aware: a ticket replayed from a backlog finds what live
triage would have found). Above :data:`LINK_THRESHOLD` a candidate is a *link*: chosen by
cross-validation for precision, because linking unrelated tickets costs more than missing one.

Memory and speed: two float32 matrices of vectors that double as they grow (10,000 tickets with a
384-dimension encoder: 30 MB), one incremental BM25; a query is two matrix–vector products and a
posting-list walk. The encoder is the cost: vectors come through a :class:`VectorCache` (the state
store's ``embeddings`` table), so each ticket version is encoded once, in batches with
:meth:`DuplicateIndex.add_many`.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import overload

import numpy as np

from frontline.decide.retrieval import BM25, Candidate, TextEncoder, VectorCache, Weights, combine, embed

# The lexical weight beside the cosine, on the GitBugs train pairs (bench/retrieval_cv.py): MRR is flat
# from 0.3 to 0.5 (0.720-0.729, recall@10 0.903); 0.3 keeps to the low end of that plateau.
WEIGHTS = Weights(lexical=0.3)
# Conservative: GitBugs cannot calibrate it (most of its true duplicates are unlabelled, so every
# measured precision is a floor); to be tuned on the demo's generated storm.
LINK_THRESHOLD = 1.0
LEXICAL_LINK_THRESHOLD = 0.5  # without an encoder the score is the normalised BM25 alone
SUMMARY = "ticket.summary"
FULL = "ticket.full"


@dataclass(frozen=True, slots=True)
class TicketText:
    """What the finder reads of a ticket; ``created`` orders them (None: known before every dated ticket)."""

    id: str
    summary: str
    description: str = ""
    created: datetime | None = None
    requester: str | None = None
    company: str | None = None
    status: str | None = None

    @property
    def full(self) -> str:
        """Summary and description as one text."""
        return f"{self.summary}\n{self.description}".strip()


@dataclass(frozen=True, slots=True)
class Parts:
    """Candidates and the parts of their scores: normalised BM25, cosine of summaries, cosine of full texts."""

    ids: Sequence[str]
    lexical: np.ndarray
    summary: np.ndarray | None
    full: np.ndarray | None


class _Ids(Sequence[str]):
    """The ids of some indexed tickets, read only for the few that are ranked (not a list of thousands per query)."""

    def __init__(self, items: list[TicketText], positions: np.ndarray) -> None:
        self._items = items
        self._positions = positions

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self._items[int(p)].id for p in self._positions[index]]
        return self._items[int(self._positions[index])].id


class MemoryCache:
    """A :class:`VectorCache` in a dict, for one process (evaluation, tests)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], tuple[str, np.ndarray]] = {}

    def get_many(self, kind: str, versions: dict[str, str]) -> dict[str, np.ndarray]:
        """The vectors held for those ids at those versions."""
        out: dict[str, np.ndarray] = {}
        for item_id, wanted in versions.items():
            row = self._rows.get((kind, item_id))
            if row is not None and row[0] == wanted:
                out[item_id] = row[1]
        return out

    def put_many(self, kind: str, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """Keep (id, version, vector) rows."""
        for item_id, item_version, vector in rows:
            self._rows[(kind, item_id)] = (item_version, vector)


class _Matrix:
    """Rows of float32 appended one batch at a time; capacity doubles, so appends stay cheap."""

    def __init__(self, dimension: int) -> None:
        self._data = np.zeros((64, dimension), dtype=np.float32)
        self.size = 0

    def extend(self, rows: np.ndarray) -> None:
        need = self.size + len(rows)
        if need > len(self._data):
            grown = np.zeros((max(need, 2 * len(self._data)), self._data.shape[1]), dtype=np.float32)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size: need] = rows
        self.size = need

    @property
    def rows(self) -> np.ndarray:
        return self._data[: self.size]


_NEVER = -np.inf  # the time of an undated ticket: before every dated one


def _time(ticket: TicketText) -> float:
    return ticket.created.timestamp() if ticket.created is not None else _NEVER


class DuplicateIndex:
    """Earlier tickets, searchable by meaning and by words; see the module docstring."""

    def __init__(self, encoder: TextEncoder | None = None, *, cache: VectorCache | None = None,
                 weights: Weights = WEIGHTS, threshold: float | None = None) -> None:
        self.encoder = encoder
        self.cache = cache if cache is not None else MemoryCache()
        self.weights = weights
        self.threshold = threshold if threshold is not None else (
            LINK_THRESHOLD if encoder is not None else LEXICAL_LINK_THRESHOLD)
        self.items: list[TicketText] = []
        self._position: dict[str, int] = {}
        self._stamps = array("d")  # creation times, epoch seconds; read by NumPy without a copy
        self._lexical = BM25()
        dimension = encoder.dimension if encoder is not None else 1
        self._summaries = _Matrix(dimension)
        self._fulls = _Matrix(dimension)

    @classmethod
    def load(cls, items: Iterable[TicketText], encoder: TextEncoder | None = None, *,
             cache: VectorCache | None = None, weights: Weights = WEIGHTS,
             threshold: float | None = None) -> DuplicateIndex:
        """An index of stored tickets, their vectors read from ``cache`` or encoded in batches."""
        index = cls(encoder, cache=cache, weights=weights, threshold=threshold)
        index.add_many(list(items))
        return index

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._position

    def _vectors(self, items: Sequence[TicketText]) -> tuple[np.ndarray, np.ndarray]:
        assert self.encoder is not None
        summaries = embed(self.encoder, SUMMARY, [(i.id, i.summary) for i in items], self.cache)
        fulls = embed(self.encoder, FULL, [(i.id, i.full) for i in items], self.cache)
        return summaries, fulls

    def prepare(self, items: Sequence[TicketText], batch: int = 256) -> None:
        """Encode the tickets the cache lacks, in batches, without indexing them (a replay's first step)."""
        if self.encoder is None:
            return
        for start in range(0, len(items), batch):
            self._vectors(items[start:start + batch])

    def add(self, item: TicketText) -> None:
        """Index one ticket (a ticket already indexed is left as it is)."""
        self.add_many([item])

    def add_many(self, items: Sequence[TicketText]) -> None:
        """Index tickets, encoding the ones the cache does not hold in one batch."""
        fresh: dict[str, TicketText] = {}
        for item in items:
            if item.id not in self._position and item.id not in fresh:
                fresh[item.id] = item
        if not fresh:
            return
        if self.encoder is not None:
            summaries, fulls = self._vectors(list(fresh.values()))
            self._summaries.extend(summaries)
            self._fulls.extend(fulls)
        for item in fresh.values():
            self._position[item.id] = len(self.items)
            self.items.append(item)
            self._lexical.add(item.full)
        self._stamps.extend(_time(item) for item in fresh.values())

    def similar(self, item: TicketText, k: int = 10, *, before: datetime | None = None) -> list[Candidate]:
        """The ``k`` indexed tickets most like ``item``, best first, among those created before ``before``.

        ``before`` defaults to the ticket's own creation time; with neither, every other indexed ticket
        is a candidate. The ticket itself never is.
        """
        parts = self.parts(item, before=before)
        if parts is None:
            return []
        cosine = None if parts.summary is None or parts.full is None else np.maximum(parts.summary, parts.full)
        return combine(parts.ids, parts.lexical, cosine, k, self.weights)

    def parts(self, item: TicketText, *, before: datetime | None = None) -> Parts | None:
        """The candidates of :meth:`similar` with each part of their score (for tuning); None when there are none."""
        if not self.items:
            return None
        when = before if before is not None else item.created
        own = self._position.get(item.id)
        times = np.frombuffer(self._stamps, dtype=np.float64)
        keep = np.flatnonzero(times < when.timestamp()) if when is not None else np.arange(len(self.items))
        if own is not None:
            keep = keep[keep != own]
        if not keep.size:
            return None
        lexical = self._lexical.normalised(item.full)[keep]
        summary_cosine = full_cosine = None
        if self.encoder is not None:
            if own is not None and self.items[own] == item:
                summary, full = self._summaries.rows[own], self._fulls.rows[own]
            else:
                summaries, fulls = self._vectors([item])
                summary, full = summaries[0], fulls[0]
            summary_cosine = (self._summaries.rows @ summary)[keep]  # product first: no copy of the matrix
            full_cosine = (self._fulls.rows @ full)[keep]
        return Parts(_Ids(self.items, keep), lexical, summary_cosine, full_cosine)

    def links(self, item: TicketText, k: int = 5, *, before: datetime | None = None) -> list[Candidate]:
        """The similar earlier tickets scoring at least the link threshold: the ones to link, best first."""
        return [c for c in self.similar(item, k, before=before) if c.score >= self.threshold]


def duplicate_groups(pairs: Iterable[tuple[str, Sequence[str]]]) -> dict[str, int]:
    """Each id's group: the connected components of "id is a duplicate of these ids"."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for item_id, others in pairs:
        for other in others:
            a, b = root(item_id), root(other)
            if a != b:
                parent[a] = b
        root(item_id)
    roots: dict[str, int] = {}
    return {node: roots.setdefault(root(node), len(roots)) for node in parent}


def replay(index: DuplicateIndex, tickets: Sequence[TicketText], groups: dict[str, int],
           k: int = 10) -> list[int | None]:
    """Feed ``tickets`` in time order; for each one with an earlier duplicate, the rank of the first found.

    A ticket is a query when an earlier ticket of its group is already indexed: exactly what
    triage would have had to find. Ranks are 1-based; None when no duplicate is in the first ``k``.
    """
    ordered = sorted(range(len(tickets)), key=lambda i: (_time(tickets[i]), i))
    earlier: dict[int, list[float]] = {}
    ranks: list[int | None] = []
    for i in ordered:
        ticket = tickets[i]
        group = groups.get(ticket.id)
        when = _time(ticket)
        if group is not None and any(t < when for t in earlier.get(group, [])):
            found = index.similar(ticket, k)
            ranks.append(next((r for r, c in enumerate(found, 1) if groups.get(c.id) == group), None))
        index.add(ticket)
        if group is not None:
            earlier.setdefault(group, []).append(when)
    return ranks
