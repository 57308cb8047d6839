"""The hybrid retrieval score: BM25 that grows one document at a time, combined with cosines in one place."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from frontline.decide.duplicates import MemoryCache
from frontline.decide.retrieval import (
    BM25,
    Weights,
    bm25_terms,
    combine,
    embed,
    identifiers,
    max_normalised,
    rank_metrics,
    terms,
    version,
)
from tests.fakes.encoder import ConceptEncoder


def test_terms_drop_stop_words_and_numbers_and_meet_plurals() -> None:
    assert terms("The checkouts are crashing with error 502") == ["checkout", "crash", "error"]


def test_bm25_ranks_the_document_sharing_the_rare_word_first() -> None:
    index = BM25()
    for text in ("password reset link", "invoice copy for march", "the invoice shows a wrong VAT number",
                 "reset the router"):
        index.add(text)
    scores = index.scores("wrong VAT on my invoice")
    assert int(np.argmax(scores)) == 2
    assert scores[0] == 0.0  # no shared word, no score


def test_bm25_tells_versions_and_error_codes_apart() -> None:
    index = BM25()
    for text in ("Upgrade Netty to 4.1.45 for CVE-2019-20444", "Upgrade jackson to 2.9.10 for CVE-2020-8840",
                 "Upgrade Netty to 4.1.44 for CVE-2019-16869"):
        index.add(text)
    scores = index.scores("Netty 4.1.45: CVE-2019-20444 is still open")
    assert scores[0] > scores[2] > scores[1]  # the same release and CVE, then the same library, then neither


def test_identifiers_are_kept_whole_beside_their_words() -> None:
    text = "NPE in org.apache.hadoop.fs.FileSystem on 3.3.1, see HDFS-1234 (e.g. with jackson-databind)"
    assert identifiers(text) == ["org.apache.hadoop.fs.filesystem", "3.3.1", "hdfs-1234", "e.g"]
    assert {"apache", "filesystem", "hdf", "hdfs-1234"} <= set(bm25_terms(text))


def test_bm25_scores_only_the_first_documents_when_asked() -> None:
    index = BM25()
    index.add("alpha beta")
    index.add("alpha gamma")
    assert len(index.scores("gamma", upto=1)) == 1
    assert index.scores("gamma", upto=1)[0] == 0.0


def test_normalised_bm25_is_one_for_an_exact_copy_and_below_for_a_partial_match() -> None:
    index = BM25()
    index.add("checkout fails with a timeout on payment")
    index.add("cannot change my avatar")
    index.add("payment page is slow")
    scores = index.normalised("checkout fails with a timeout on payment")
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert 0.0 < scores[2] < 0.5
    assert scores[1] == 0.0


def test_a_very_long_query_keeps_its_rarest_known_terms() -> None:
    index = BM25()
    for i in range(60):
        index.add(f"common words rare{i}")
    query = " ".join(f"unknown{i}" for i in range(100)) + " " + " ".join(f"rare{i}" for i in range(60)) + " common"
    kept = index.query_terms(query)
    assert len(kept) == 48
    assert all(word.startswith("rare") for word in kept)  # not the unknown words, not the common one


def test_combine_orders_by_cosine_plus_weighted_lexical_and_keeps_the_parts() -> None:
    ids = ["a", "b", "c"]
    cosine = np.array([0.5, 0.6, 0.1], dtype=np.float32)
    lexical = np.array([1.0, 0.0, 0.2], dtype=np.float32)
    best = combine(ids, lexical, cosine, 2, Weights(lexical=0.3))
    assert [c.id for c in best] == ["a", "b"]
    assert (best[0].score, best[0].cosine, best[0].lexical) == (pytest.approx(0.8), 0.5, 1.0)
    assert [c.id for c in combine(ids, lexical, cosine, 3, Weights(lexical=0.0))] == ["b", "a", "c"]


def test_combine_without_cosines_is_the_lexical_score_alone() -> None:
    best = combine(["a", "b"], np.array([0.2, 0.9], dtype=np.float32), None, 5)
    assert [(c.id, c.cosine) for c in best] == [("b", None), ("a", None)]


def test_max_normalised_handles_no_match() -> None:
    assert max_normalised(np.zeros(3, dtype=np.float32)).tolist() == [0.0, 0.0, 0.0]
    assert max_normalised(np.array([2.0, 1.0], dtype=np.float32)).tolist() == [1.0, 0.5]


class CountingCache(MemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[Sequence[tuple[str, str, np.ndarray]]] = []

    def put_many(self, kind: str, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        self.writes.append(rows)
        super().put_many(kind, rows)


def test_embed_encodes_each_item_version_once_in_one_batch() -> None:
    encoder, cache = ConceptEncoder(), CountingCache()
    first = embed(encoder, "ticket", [("1", "refund please"), ("2", "delete my account")], cache)
    assert (encoder.calls, encoder.texts, len(cache.writes)) == (1, 2, 1)
    again = embed(encoder, "ticket", [("2", "delete my account"), ("1", "refund please")], cache)
    assert encoder.calls == 1  # both cached
    assert np.allclose(again[1], first[0])
    embed(encoder, "ticket", [("1", "refund please, it has been a week"), ("2", "delete my account")], cache)
    assert (encoder.calls, encoder.texts) == (2, 3)  # only the edited ticket is encoded again


def test_the_version_changes_with_the_text_and_the_encoder() -> None:
    assert version("a", "m1") != version("b", "m1")
    assert version("a", "m1") != version("a", "m2")


def test_rank_metrics() -> None:
    metrics = rank_metrics([1, 2, None, 11], (1, 3))
    assert metrics == {"at_1": 0.25, "at_3": 0.5, "mrr": 0.375, "n": 4}
