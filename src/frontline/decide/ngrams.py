"""The trained model's features: normalised text → TF-IDF blocks (words, characters, word pairs), replayed fast.

Three blocks, each sublinear TF-IDF, l2-normalised on its own: word 1-2-grams, ``char_wb`` 2-5-grams,
and unordered pairs of word stems anywhere in the ticket. The pairs give a linear model the
conjunctions that separate close intents ("card … arrive" against "card … activate"); on
banking77 they are worth most of a point over words and characters alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from itertools import combinations
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

# Caps keep the model file and its memory bounded on large corpora (banking77 stays well below).
MAX_WORD_FEATURES = 60_000
MAX_CHAR_FEATURES = 120_000
MAX_PAIR_FEATURES = 50_000  # banking77 needs 42k; long tickets would fill 120k with rare pairs
# Below this many rows every n-gram is kept; above it, character n-grams and pairs seen once are noise.
MIN_DF_ROWS = 500
# Distinct words whose character n-gram columns are remembered between calls (about 40 MB at most).
WORD_CACHE_SIZE = 200_000
# Pairs are taken among the first words only: the intent is stated early, and the count grows
# with the square of the length (64 words → at most 2,016 pairs).
PAIR_WORDS = 64
# A four-letter prefix is a crude stem that merges "arrive", "arrived", "arrival" in a pair.
STEM_CHARS = 4

_WORD = re.compile(r"(?u)\b\w+\b")
_CONTRACTION = re.compile(r"\b(can|won)'t\b|n't\b|'(re|ve|ll|m|d)\b")
_CONTRACTED = {"can": "can not", "won": "will not",
               "re": " are", "ve": " have", "ll": " will", "m": " am", "d": " would"}
_DIGIT = re.compile(r"\d")
_CURRENCY = str.maketrans({"£": " gbp ", "$": " usd ", "€": " eur "})


def _expand(match: re.Match[str]) -> str:
    word = match.group(1) or match.group(2)
    return _CONTRACTED[word] if word else " not"


def normalise(text: str) -> str:
    """Lower-case, expand contractions, fold digits to 0 and name currency symbols (what every block sees)."""
    text = text.lower().replace("\u2019", "'")
    if "'" in text:
        text = _CONTRACTION.sub(_expand, text)
    return _DIGIT.sub("0", text).translate(_CURRENCY)


def word_pairs(text: str) -> list[str]:
    """The unordered pairs of distinct word stems among the first words of ``text`` (an analyzer)."""
    stems = sorted({word[:STEM_CHARS] for word in _WORD.findall(text)[:PAIR_WORDS]})
    return [f"{a} {b}" for a, b in combinations(stems, 2)]


def feature_union(n_rows: int) -> FeatureUnion:
    """The unfitted feature blocks for a training set of ``n_rows`` texts."""
    min_df = 2 if n_rows >= MIN_DF_ROWS else 1
    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b",
                                  max_features=MAX_WORD_FEATURES, dtype=np.float32)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                  min_df=min_df, max_features=MAX_CHAR_FEATURES, dtype=np.float32)),
        ("pairs", TfidfVectorizer(analyzer=word_pairs, sublinear_tf=True, min_df=min_df,
                                  max_features=MAX_PAIR_FEATURES, dtype=np.float32)),
    ])


class Block:
    """A fitted TfidfVectorizer replayed without scikit-learn's per-call validation overhead.

    ``TfidfVectorizer.transform`` spends about 0.5 ms per call on input checks, which dominates
    single-ticket latency; this does the same arithmetic (count, 1 + log tf, idf, l2) directly and
    is checked against scikit-learn in the tests. Character n-grams never cross a word (``char_wb``),
    so each distinct word's vocabulary columns are computed once and remembered: ticket text is
    Zipfian, and most words of a new ticket were seen in earlier ones.
    """

    def __init__(self, vectorizer: TfidfVectorizer, start: int) -> None:
        if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2" and not vectorizer.binary):
            raise ValueError("unsupported vectorizer settings")
        self.analyze = vectorizer.build_analyzer()
        self.signature: tuple[Any, ...] = (vectorizer.analyzer, vectorizer.ngram_range, vectorizer.lowercase,
                                           vectorizer.token_pattern, vectorizer.strip_accents)
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float32)
        self.start = start
        self.stop = start + len(self.idf)
        self._by_word = (
            vectorizer.analyzer == "char_wb" and vectorizer.lowercase and vectorizer.strip_accents is None
            and vectorizer.preprocessor is None
        )
        self._ngram_range: tuple[int, int] = vectorizer.ngram_range
        self._word_columns: dict[str, tuple[int, ...]] = {}
        # Stem pairs: a long ticket has hundreds of stems and tens of thousands of pairs, nearly all
        # outside the vocabulary. Walking each stem's known partners instead costs what the vocabulary
        # holds for the stems present, not the square of the stems.
        self._partners: dict[str, frozenset[str]] | None = None
        # Each stem's partners with the pair's column: a page of tickets looks up tens of thousands of pairs,
        # and building each pair's string to look it up cost more than the rest of the block.
        self._pair_column: dict[str, dict[str, int]] = {}
        if vectorizer.analyzer is word_pairs:
            grouped: dict[str, list[str]] = {}
            for gram, column in self.vocabulary.items():
                first, _, second = gram.partition(" ")
                grouped.setdefault(first, []).append(second)
                self._pair_column.setdefault(first, {})[second] = column
            # Built from lists, as always: a set built from a dict is sized otherwise and iterates in another
            # order, and the order of a row's columns moves the last digit of its float sums.
            self._partners = {stem: frozenset(others) for stem, others in grouped.items()}

    def _columns_of(self, word: str) -> tuple[int, ...]:
        """The vocabulary columns of one word's ``char_wb`` n-grams, as scikit-learn generates them."""
        found = self._word_columns.get(word)
        if found is not None:
            return found
        lookup = self.vocabulary.get
        padded = f" {word} "
        length = len(padded)
        columns: list[int] = []
        for n in range(self._ngram_range[0], self._ngram_range[1] + 1):
            if n >= length:  # a short word counts once, whole, as in scikit-learn
                column = lookup(padded)
                if column is not None:
                    columns.append(column)
                break
            for i in range(length - n + 1):
                column = lookup(padded[i:i + n])
                if column is not None:
                    columns.append(column)
        result = tuple(columns)
        if len(self._word_columns) >= WORD_CACHE_SIZE:
            self._word_columns.clear()  # bounded memory; the frequent words come back at once
        self._word_columns[word] = result
        return result

    def _pair_columns(self, stems: set[str]) -> list[int]:
        """The vocabulary columns of the stem pairs among ``stems``, each pair once (``a < b``), in column order.

        Set intersection runs over the smaller side in C, so a common stem with thousands of known
        partners costs no more than the ticket's own stems. Sorted, because a set's order follows
        Python's per-process string hashing: the float sums of a row (its norm, the model's products)
        would move in their last digits from one process to the next, and a ticket at a threshold could
        be decided differently by two runs.
        """
        assert self._partners is not None
        columns: list[int] = []
        for stem in stems:
            known = self._partners.get(stem)
            if known:
                columns.extend(map(self._pair_column[stem].__getitem__, stems.intersection(known)))
        columns.sort()
        return columns

    def _counts(self, text: str) -> Mapping[int, int]:
        if self._partners is not None:
            # Each pair is found once (from its first stem), so every count is 1: no Counter needed.
            return dict.fromkeys(self._pair_columns({word[:STEM_CHARS] for word in _WORD.findall(text)[:PAIR_WORDS]}),
                                 1)
        if self._by_word:
            columns: list[int] = []
            for word in text.lower().split():
                columns.extend(self._columns_of(word))
            return Counter(columns)
        lookup = self.vocabulary.get
        grams = Counter(self.analyze(text))
        return Counter({column: count for gram, count in grams.items() if (column := lookup(gram)) is not None})

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        """The l2-normalised sublinear TF-IDF rows of ``texts``."""
        indices: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for text in texts:
            found = self._counts(text)
            indices.extend(found.keys())
            counts.extend(found.values())
            indptr.append(len(indices))
        columns = np.asarray(indices, dtype=np.int32)
        data = np.log(np.asarray(counts, dtype=np.float32)) + np.float32(1.0)
        data *= self.idf[columns]
        bounds = np.asarray(indptr, dtype=np.int64)
        lengths = bounds[1:] - bounds[:-1]
        rows = np.repeat(np.arange(len(texts)), lengths)
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(texts))).astype(np.float32)
        norms[norms == 0] = 1.0  # a text with no known n-gram stays an all-zero row
        data /= norms[rows]
        return sparse.csr_matrix((data, columns, indptr), shape=(len(texts), len(self.idf)))


def compile_blocks(features: FeatureUnion) -> list[Block]:
    """One fast :class:`Block` per fitted vectorizer, with its column range in the stacked matrix."""
    blocks: list[Block] = []
    start = 0
    for _, vectorizer in features.transformer_list:
        if not isinstance(vectorizer, TfidfVectorizer):
            raise TypeError(f"unsupported feature step {type(vectorizer).__name__}")
        blocks.append(Block(vectorizer, start))
        start = blocks[-1].stop
    if not blocks:
        raise ValueError("the model has no feature steps")
    return blocks
