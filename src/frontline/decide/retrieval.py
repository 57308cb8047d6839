"""Hybrid retrieval: one score for "these texts mean the same thing", used by KB search and duplicates.

Two views of a text meet in one number::

    score = cosine + weight · lexical

- ``cosine``: of the sentence-encoder vectors (unit rows, so a dot product), which finds a
  paraphrase that shares no word with what it paraphrases;
- ``lexical``: a BM25 score brought into [0, 1] (by the best candidate's, or by the query's score
  against itself), which rewards the rare words an encoder blurs: an error code, a product name.

Without an encoder the score is the lexical part alone, so every caller works in a base install.
The weights are chosen by cross-validation on the shared train splits (``bench/retrieval_cv.py``).

The BM25 here is in memory and incremental (:class:`BM25`): tickets arrive one at a time and the
same code runs on SQLite and PostgreSQL state stores. The local KB ranks with FTS5's ``bm25()`` and
only borrows :func:`combine`.
"""

from __future__ import annotations

import hashlib
import math
import re
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

# Words that say nothing about what a text is about, in support tickets and bug reports alike.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can cannot could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just me more most my no nor not
    now of off on once only or other our ours out over own same she should so some such than that the
    their them then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours hi hello thanks thank please help
    team get got also still us im ive dont cant doesnt isnt""".split()
)
_WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
# A query longer than this keeps its rarest terms: a pasted stack trace would otherwise cost a
# posting-list walk per frame and drown the summary's few telling words.
QUERY_TERMS = 48


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light English suffix strip (plurals, -ing, -ed), so "crashes" meets "crash" and "failing" "fail"."""
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """The content words of ``text``: lower-cased, stop words and bare numbers out, stemmed."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and not w.isdigit()]


# A word of letters and digits joined by dots, dashes or colons (a version, an error code, a ticket key, a
# CVE, a dotted Java name). :func:`terms` splits it, and drops its numbers, so "CVE-2019-20444" meets
# "CVE-2020-8840" as the one word "cve"; BM25 indexes it whole as well.
_TOKEN = re.compile(r"[^\W_][\w.\-/:#$]*[^\W_]", re.UNICODE)
LONGEST_IDENTIFIER = 60  # longer runs are pasted blobs (a hash, a base64 line), not names


def identifiers(text: str) -> list[str]:
    """The identifiers of ``text``, lower-cased and whole: tokens holding two of letters, digits and dots."""
    out = []
    for token in _TOKEN.findall(text):
        kinds = (any(c.isdigit() for c in token), any(c.isalpha() for c in token), "." in token)
        if sum(kinds) >= 2 and len(token) <= LONGEST_IDENTIFIER:
            out.append(token.lower())
    return out


def bm25_terms(text: str) -> list[str]:
    """What BM25 indexes of a text: its :func:`terms`, then its :func:`identifiers` whole."""
    return terms(text) + identifiers(text)


def version(text: str, encoder: str) -> str:
    """The version of an item's vector: a hash of its text and the encoder that read it."""
    return hashlib.sha256(f"{encoder}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Weights:
    """How the parts are combined; the defaults are the cross-validated choices (see the module docstring)."""

    lexical: float = 0.3  # the weight of the normalised lexical score beside the cosine


@dataclass(frozen=True, slots=True)
class Candidate:
    """One retrieved item: its combined score and the two parts it was made of (``cosine`` None without an encoder)."""

    id: str
    score: float
    cosine: float | None
    lexical: float


def max_normalised(scores: np.ndarray) -> np.ndarray:
    """Scores divided by the best one (all zeros when none is positive): [0, 1] for any query."""
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else np.zeros_like(scores, dtype=np.float32)


def combine(ids: Sequence[str], lexical: np.ndarray, cosine: np.ndarray | None, k: int,
            weights: Weights = Weights()) -> list[Candidate]:
    """The ``k`` best of ``ids`` by ``cosine + weights.lexical · lexical`` (lexical alone without cosines).

    ``lexical`` must already be in [0, 1] (see :func:`max_normalised` and :meth:`BM25.normalised`).
    """
    if not len(ids) or k <= 0:
        return []
    score = lexical.astype(np.float32) if cosine is None else cosine + weights.lexical * lexical
    take = min(k, len(ids))
    top = np.argpartition(-score, take - 1)[:take] if take < len(ids) else np.arange(len(ids))
    top = top[np.lexsort((top, -score[top]))]  # best first; ties keep the earlier item
    return [Candidate(ids[i], round(float(score[i]), 4), None if cosine is None else round(float(cosine[i]), 4),
                      round(float(lexical[i]), 4)) for i in top]


class BM25:
    """An in-memory BM25 index that grows one document at a time (k1 = 1.2, b = 0.75), of :func:`bm25_terms`.

    Postings are typed arrays, read by NumPy without a copy, so a query costs one vector add per
    query term over that term's documents.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75, analyse: Callable[[str], list[str]] = bm25_terms) -> None:
        self.k1 = k1
        self.b = b
        self.analyse = analyse
        self._docs: dict[str, array[int]] = {}
        self._freqs: dict[str, array[float]] = {}
        self._lengths = array("f")
        self._total = 0.0

    def __len__(self) -> int:
        return len(self._lengths)

    def add(self, text: str) -> int:
        """Index ``text`` as the next document; returns its position."""
        position = len(self._lengths)
        counts: dict[str, int] = {}
        words = self.analyse(text)
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        for word, count in counts.items():
            self._docs.setdefault(word, array("i")).append(position)
            self._freqs.setdefault(word, array("f")).append(float(count))
        self._lengths.append(float(len(words)))
        self._total += len(words)
        return position

    def _idf(self, word: str) -> float:
        df = len(self._docs.get(word, ()))
        return math.log(1.0 + (len(self._lengths) - df + 0.5) / (df + 0.5))

    def query_terms(self, text: str) -> dict[str, int]:
        """The query's terms with their counts: of a long query, the rarest :data:`QUERY_TERMS` the index knows."""
        counts: dict[str, int] = {}
        for word in self.analyse(text):
            counts[word] = counts.get(word, 0) + 1
        if len(counts) > QUERY_TERMS:
            counts = {w: c for w, c in counts.items() if w in self._docs}  # an unknown word scores nothing
        if len(counts) > QUERY_TERMS:
            rarest = sorted(counts, key=lambda w: (-self._idf(w), w))[:QUERY_TERMS]
            counts = {w: counts[w] for w in rarest}
        return counts

    def scores(self, text: str, upto: int | None = None, *, counts: dict[str, int] | None = None) -> np.ndarray:
        """BM25 of ``text`` (or its ``counts`` from :meth:`query_terms`) against the first ``upto`` documents."""
        n = len(self._lengths) if upto is None else min(upto, len(self._lengths))
        out = np.zeros(n, dtype=np.float32)
        if not n:
            return out
        lengths = np.frombuffer(self._lengths, dtype=np.float32)[:n]
        norm = self.k1 * (1 - self.b + self.b * lengths / max(self._total / len(self._lengths), 1e-9))
        for word in counts if counts is not None else self.query_terms(text):
            docs = self._docs.get(word)
            if docs is None:
                continue
            positions = np.frombuffer(docs, dtype=np.int32)
            freqs = np.frombuffer(self._freqs[word], dtype=np.float32)
            if upto is not None:
                keep = positions < n
                positions, freqs = positions[keep], freqs[keep]
            out[positions] += self._idf(word) * freqs * (self.k1 + 1) / (freqs + norm[positions])
        return out

    def self_score(self, text: str, *, counts: dict[str, int] | None = None) -> float:
        """What ``text`` would score against an exact copy of itself: the ceiling :meth:`normalised` divides by."""
        counts = self.query_terms(text) if counts is None else counts
        length = float(sum(counts.values()))
        if not counts or not len(self._lengths):
            return 0.0
        norm = self.k1 * (1 - self.b + self.b * length / max(self._total / len(self._lengths), 1e-9))
        return sum(self._idf(w) * c * (self.k1 + 1) / (c + norm) for w, c in counts.items())

    def normalised(self, text: str, upto: int | None = None) -> np.ndarray:
        """:meth:`scores` divided by :meth:`self_score`, capped at 1: comparable across queries, for a threshold."""
        counts = self.query_terms(text)
        raw = self.scores(text, upto, counts=counts)
        ceiling = self.self_score(text, counts=counts)
        return np.minimum(raw / ceiling, 1.0) if ceiling > 0 else raw


class VectorCache(Protocol):
    """Where vectors are kept between runs (the state store's ``embeddings`` table)."""

    def get_many(self, kind: str, versions: dict[str, str]) -> dict[str, np.ndarray]:
        """The stored vectors of those ids whose stored version is the one given."""
        ...

    def put_many(self, kind: str, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """Store (id, version, vector) rows, replacing older versions."""
        ...


class TextEncoder(Protocol):
    """The part of :class:`frontline.decide.embeddings.Encoder` retrieval needs."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def embed(encoder: TextEncoder, kind: str, items: Iterable[tuple[str, str]],
          cache: VectorCache | None = None) -> np.ndarray:
    """One unit vector per (id, text) item, in order: cached ones read, the rest encoded in one batch and cached."""
    listed = list(items)
    if not listed:
        return np.zeros((0, encoder.dimension), dtype=np.float32)
    versions = {item_id: version(text, encoder.name) for item_id, text in listed}
    found = cache.get_many(kind, versions) if cache is not None else {}
    missing = [(item_id, text) for item_id, text in listed if item_id not in found]
    if missing:
        fresh = encoder.encode([text for _, text in missing])
        computed = {item_id: fresh[i] for i, (item_id, _) in enumerate(missing)}
        if cache is not None:
            cache.put_many(kind, [(item_id, versions[item_id], vector) for item_id, vector in computed.items()])
        found = {**found, **computed}
    return np.vstack([np.asarray(found[item_id], dtype=np.float32) for item_id, _ in listed])


def rank_metrics(ranks: Sequence[int | None], cutoffs: Sequence[int] = (1, 3, 5, 10)) -> dict[str, float | int]:
    """hit@k for each cutoff and MRR@10 of 1-based ranks (None: not found in the first ten); ``n`` queries."""
    n = len(ranks)
    out: dict[str, float | int] = {}
    for cutoff in cutoffs:
        out[f"at_{cutoff}"] = round(sum(1 for r in ranks if r is not None and r <= cutoff) / n, 4) if n else 0.0
    out["mrr"] = round(sum(1.0 / r for r in ranks if r is not None and r <= 10) / n, 4) if n else 0.0
    out["n"] = n
    return out
