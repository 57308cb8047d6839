"""The duplicate finder: for a ticket, the most similar *earlier* tickets, with scores.

Each ticket is read twice by the encoder: its summary, and its *head*, the summary and the opening
of the description's prose (stack frames, log lines and user-agent headers out, cut at
:data:`HEAD_CHARS`, about the 128 word pieces the encoder was trained on; past them a pasted trace
only blurs the vector and costs encoder time). Two tickets are as similar as the mean of the two
readings' cosines: a one-line subject often says it best, a description sometimes only in its
second paragraph, and a pair close in both is likelier the same problem than a pair close in one.
The lexical part is BM25 of the full text, traces included, its versions, error codes and dotted
names kept whole (:func:`frontline.decide.retrieval.bm25_terms`), divided by what the query would
score against itself, so it means the same for a short ticket and a long one.

Only earlier tickets are candidates (time-aware: a ticket replayed from a backlog finds what live
triage would have found). :class:`IndexFinder` is what triage links with: scores as a share of a
perfect match, read against :data:`THRESHOLDS` (or the team's ``[incidents]`` thresholds).

Memory and speed: two float32 matrices of vectors that double as they grow (10,000 tickets with a
384-dimension encoder: 30 MB), one incremental BM25; a query is two matrix–vector products and a
posting-list walk. The encoder is the cost (on GitBugs a ticket's two readings are 112 word pieces
on average, against 167 when the second was the whole text): vectors come through a :class:`VectorCache` (the state
store's ``embeddings`` table), so each ticket version is encoded once, in batches with
:meth:`DuplicateIndex.add_many`.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, overload

import numpy as np

from frontline.decide.retrieval import BM25, Candidate, TextEncoder, VectorCache, Weights, combine, embed
from frontline.model import Ticket

# Equal say: the mean cosine and the normalised BM25 are both in [0, 1], and are simply added. On the
# GitBugs train pairs (bench/retrieval_cv.py) MRR by weight is 0.746 at 0.3, 0.759 at 0.5, 0.784 at 0.7,
# 0.786 at 1, 0.776 at 1.5 (recall@10 0.914 from 0.5 up); choosing the weight on four folds and scoring
# the fifth chose 0.7-1.5 and scored 0.761.
WEIGHTS = Weights(lexical=1.0)
# Where a candidate counts, as a share of a perfect match (IndexFinder's scores): a *duplicate* (listed,
# its alert in the first one's thread) and a report of the *same problem* (counted towards an incident).
# GitBugs cannot calibrate them (most of its true duplicates are unlabelled), so they come from the
# demo's generated storms (bench/bench_storm.py, seeds 13 and 7): with the encoder, storm reports score
# at least 0.54 against an earlier report (median 0.77-0.80) and normal tickets at most 0.37 against any
# report; BM25 alone (divided by the ticket's self-score) 0.36-0.75 against at most 0.23.
THRESHOLDS = {True: (0.75, 0.45), False: (0.6, 0.3)}  # encoder or not → (duplicate, same problem)
SUMMARY = "ticket.summary"
HEAD = "ticket.head"
# About 128 word pieces of prose (GitBugs: the 128th piece of a cleaned head ends at character 388-442,
# median), the length all-MiniLM-L6-v2 was trained on; half of the 256 it reads at most.
HEAD_CHARS = 400
# What a description carries that is not prose: a stack frame, a log line (timestamp or level first), a
# browser's user-agent header. They stay in the lexical index, where a class name or code is a clue.
_NOT_PROSE = re.compile(
    r"^\s*(?:at\s+[\w$.<>]+\(.*\)|\.\.\.\s*\d+\s+more|#\d+\s+0x[0-9a-f]+"
    r"|\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\d{2}/\d{2}/\d{2}\s+\d{2}:\d{2}"
    r"|(?:INFO|WARN|WARNING|ERROR|DEBUG|TRACE|FATAL)\b|(?:User[ -]Agent|Build ID|Build Identifier)\s*:)",
    re.IGNORECASE)
# A Jira {code} or {noformat} block: its first two lines say what it is, the rest is the paste.
_BLOCK = re.compile(r"\{(code|noformat)[^}]*\}(.*?)\{\1\}", re.DOTALL)


def prose(description: str) -> str:
    """The prose of a description: stack frames, log lines and user-agent headers out, code blocks cut to two lines."""
    text = _BLOCK.sub(lambda m: "\n".join(m.group(2).strip().splitlines()[:2]), description)
    lines = [line for line in text.splitlines() if line.strip() and not _NOT_PROSE.match(line)]
    return "\n".join(lines)


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

    @property
    def head(self) -> str:
        """What the encoder reads besides the summary: the summary and the description's opening prose."""
        return f"{self.summary}\n{prose(self.description)}".strip()[:HEAD_CHARS]


@dataclass(frozen=True, slots=True)
class Parts:
    """Candidates and the parts of their scores: normalised BM25, cosine of summaries, cosine of heads."""

    ids: Sequence[str]
    lexical: np.ndarray
    summary: np.ndarray | None
    head: np.ndarray | None

    @property
    def cosine(self) -> np.ndarray | None:
        """The encoder's part of the score: the mean of the two readings' cosines (None without an encoder)."""
        return None if self.summary is None or self.head is None else (self.summary + self.head) / 2


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


class PageCache:
    """A :class:`VectorCache` that keeps the vectors it last read or wrote in memory, in front of another.

    Triage reads a page's vectors in one batch, then compares its tickets one by one: each comparison
    finds its vectors here instead of asking the store again. :meth:`clear` drops them (per page).
    """

    def __init__(self, behind: VectorCache) -> None:
        self.behind = behind
        self.memory = MemoryCache()

    def get_many(self, kind: str, versions: dict[str, str]) -> dict[str, np.ndarray]:
        """The vectors held in memory, the rest from the cache behind (then held)."""
        found = self.memory.get_many(kind, versions)
        missing = {i: v for i, v in versions.items() if i not in found}
        if missing:
            more = self.behind.get_many(kind, missing)
            self.memory.put_many(kind, [(i, missing[i], vector) for i, vector in more.items()])
            found.update(more)
        return found

    def put_many(self, kind: str, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """Store the rows behind and hold them."""
        self.behind.put_many(kind, rows)
        self.memory.put_many(kind, rows)

    def clear(self) -> None:
        """Forget what is held in memory."""
        self.memory = MemoryCache()


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
                 weights: Weights = WEIGHTS) -> None:
        self.encoder = encoder
        self.cache = cache if cache is not None else MemoryCache()
        self.weights = weights
        self.items: list[TicketText] = []
        self._position: dict[str, int] = {}
        self._stamps = array("d")  # creation times, epoch seconds; read by NumPy without a copy
        self._lexical = BM25()
        dimension = encoder.dimension if encoder is not None else 1
        self._summaries = _Matrix(dimension)
        self._heads = _Matrix(dimension)

    @classmethod
    def load(cls, items: Iterable[TicketText], encoder: TextEncoder | None = None, *,
             cache: VectorCache | None = None, weights: Weights = WEIGHTS) -> DuplicateIndex:
        """An index of stored tickets, their vectors read from ``cache`` or encoded in batches."""
        index = cls(encoder, cache=cache, weights=weights)
        index.add_many(list(items))
        return index

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._position

    def _vectors(self, items: Sequence[TicketText]) -> tuple[np.ndarray, np.ndarray]:
        assert self.encoder is not None
        summaries = embed(self.encoder, SUMMARY, [(i.id, i.summary) for i in items], self.cache)
        heads = embed(self.encoder, HEAD, [(i.id, i.head) for i in items], self.cache)
        return summaries, heads

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
            summaries, heads = self._vectors(list(fresh.values()))
            self._summaries.extend(summaries)
            self._heads.extend(heads)
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
        return combine(parts.ids, parts.lexical, parts.cosine, k, self.weights)

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
        summary_cosine = head_cosine = None
        if self.encoder is not None:
            if own is not None and self.items[own] == item:
                summary, head = self._summaries.rows[own], self._heads.rows[own]
            else:
                summaries, heads = self._vectors([item])
                summary, head = summaries[0], heads[0]
            summary_cosine = (self._summaries.rows @ summary)[keep]  # product first: no copy of the matrix
            head_cosine = (self._heads.rows @ head)[keep]
        return Parts(_Ids(self.items, keep), lexical, summary_cosine, head_cosine)


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


class SimilarFinder(Protocol):
    """What triage's incidents step asks of a finder: earlier similar tickets, and to learn each one triaged."""

    def prepare(self, tickets: Sequence[Ticket]) -> None:
        """Read a page of tickets ahead (an encoder reads them in one batch)."""
        ...

    duplicate: float  # the score from which a candidate is a duplicate
    same: float  # the score from which a candidate reports the same problem

    def similar(self, ticket: Ticket, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (ticket id, score in [0, 1]) among tickets created before ``ticket``, best first."""
        ...

    def add(self, ticket: Ticket) -> None:
        """Remember ``ticket`` as a candidate for later tickets."""
        ...


def ticket_text(ticket: Ticket) -> TicketText:
    """What the finder reads of a helpdesk ticket: its subject as the summary, its description."""
    return TicketText(ticket.id, ticket.subject.strip(), ticket.description.strip(), ticket.created_at)


class IndexFinder:
    """The :class:`SimilarFinder` triage uses: a :class:`DuplicateIndex` over the tickets triaged so far.

    Its scores are the index's divided by their largest possible value (``1 + weights.lexical`` with
    an encoder, 1 without), so the ``[incidents]`` thresholds read as shares of a perfect match;
    negative cosines count as 0.
    """

    def __init__(self, index: DuplicateIndex, *, duplicate: float | None = None, same: float | None = None) -> None:
        self.index = index
        self._scale = 1.0 + index.weights.lexical if index.encoder is not None else 1.0
        defaults = THRESHOLDS[index.encoder is not None]
        self.duplicate = duplicate if duplicate is not None else defaults[0]  # listed as a duplicate from here
        self.same = same if same is not None else defaults[1]  # the same problem (an incident's) from here

    def remember(self, items: Sequence[TicketText]) -> None:
        """Index stored tickets (a finder rebuilt from the state store), their vectors read in batches."""
        for start in range(0, len(items), 256):
            self.index.add_many(items[start:start + 256])

    def prepare(self, tickets: Sequence[Ticket]) -> None:
        """Encode a page's tickets in one batch (cached), before they are compared one by one."""
        if isinstance(self.index.cache, PageCache):
            self.index.cache.clear()
        self.index.prepare([ticket_text(ticket) for ticket in tickets])

    def similar(self, ticket: Ticket, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` earlier tickets by the index's score, scaled to [0, 1], best first."""
        found = self.index.similar(ticket_text(ticket), k)
        return [(c.id, round(min(1.0, max(0.0, c.score / self._scale)), 4)) for c in found if c.id != ticket.id]

    def add(self, ticket: Ticket) -> None:
        """Index ``ticket`` (its vectors come from the cache when :meth:`prepare` read them)."""
        self.index.add(ticket_text(ticket))
