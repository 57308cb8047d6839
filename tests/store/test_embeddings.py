"""The embedding cache in the state store: one vector per (kind, item), a miss when the version changed."""

from __future__ import annotations

import numpy as np
from sqlalchemy import inspect

from frontline.decide.duplicates import DuplicateIndex, TicketText
from frontline.store.embeddings import EmbeddingCache
from frontline.store.state import StateStore
from tests.fakes.encoder import ConceptEncoder


def test_vectors_round_trip_and_a_new_version_is_a_miss(state_url: str) -> None:
    store = StateStore.open(state_url)
    try:
        assert "embeddings" in inspect(store.engine).get_table_names()
        cache = EmbeddingCache(store.engine)
        vector = np.array([0.6, 0.8, 0.0], dtype=np.float32)
        cache.put_many("ticket.full", [("1", "v1", vector), ("2", "v1", vector * 0)])
        found = cache.get_many("ticket.full", {"1": "v1", "2": "v2", "3": "v1"})
        assert list(found) == ["1"] and np.array_equal(found["1"], vector)
        assert cache.get_many("ticket.summary", {"1": "v1"}) == {}  # kinds are apart
        cache.put_many("ticket.full", [("2", "v2", vector)])  # a new version replaces the old one
        assert list(cache.get_many("ticket.full", {"2": "v2"})) == ["2"]
        assert cache.get_many("ticket.full", {"2": "v1"}) == {}
        assert cache.forget(["1", "2"]) == 2
    finally:
        store.close()


def test_many_ids_are_read_in_chunks(state_url: str) -> None:
    store = StateStore.open(state_url)
    try:
        cache = EmbeddingCache(store.engine)
        rows = [(str(i), "v", np.full(4, i, dtype=np.float32)) for i in range(1_200)]
        cache.put_many("k", rows)
        found = cache.get_many("k", {str(i): "v" for i in range(1_200)})
        assert len(found) == 1_200 and found["1199"][0] == 1199.0
    finally:
        store.close()


def test_the_duplicate_finder_encodes_a_ticket_once_across_processes(state_url: str) -> None:
    store = StateStore.open(state_url)
    try:
        tickets = [TicketText("1", "Checkout fails", "card error"), TicketText("2", "Avatar change", "")]
        first = ConceptEncoder()
        DuplicateIndex.load(tickets, first, cache=EmbeddingCache(store.engine))
        second = ConceptEncoder()  # a later run: every vector comes from the store
        index = DuplicateIndex.load(tickets, second, cache=EmbeddingCache(store.engine))
        assert first.texts == 4 and second.texts == 0
        assert index.similar(TicketText("3", "checkout card error fails"), 1)[0].id == "1"
    finally:
        store.close()
