"""A sentence encoder for tests: words are read through a synonym table, so paraphrases meet.

Each word maps to a concept (itself unless the table says otherwise) and a text is the unit-length
count vector of its concepts hashed into ``dimension`` slots. Deterministic, instant, no model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from frontline.decide.retrieval import terms

SYNONYMS = {
    "remove": "delete", "erase": "delete", "rid": "delete", "wipe": "delete", "close": "delete",
    "profile": "account", "login": "account", "signin": "account",
    "money": "refund", "reimburse": "refund", "back": "refund",
    "crash": "fail", "broken": "fail", "error": "fail", "502": "fail", "down": "fail", "outage": "fail",
    "checkout": "payment", "pay": "payment", "card": "payment",
}


class ConceptEncoder:
    """Counts how often it was asked to encode, and how many texts, so tests can check caching and batching."""

    name = "concept-test-encoder"

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.calls = 0
        self.texts = 0

    def _slot(self, concept: str) -> int:
        return int(hashlib.sha256(concept.encode()).hexdigest(), 16) % self.dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of the texts' concepts."""
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in terms(text):
                out[row, self._slot(SYNONYMS.get(word, word))] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out
