"""The duplicate finder: earlier tickets only, both readings of a ticket, a link threshold, no encoder needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from frontline.decide.duplicates import (
    HEAD_CHARS,
    THRESHOLDS,
    DuplicateIndex,
    IndexFinder,
    MemoryCache,
    PageCache,
    TicketText,
    duplicate_groups,
    replay,
)
from frontline.decide.retrieval import Weights
from frontline.model import Ticket
from tests.fakes.encoder import ConceptEncoder

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def ticket(number: int, summary: str, description: str = "", minutes: int = 0) -> TicketText:
    return TicketText(str(number), summary, description, T0 + timedelta(minutes=minutes))


EARLIER = [
    ticket(1, "Checkout crashes on payment", "The payment page fails with an error after the card step.", 0),
    ticket(2, "How do I change my avatar", "Looking for the profile picture setting.", 5),
    ticket(3, "Invoice shows the wrong VAT number", "Our VAT id is missing on the March invoice.", 10),
]


@pytest.mark.parametrize("encoder", [ConceptEncoder(), None], ids=["encoder", "lexical-only"])
def test_the_most_similar_earlier_ticket_comes_first(encoder: ConceptEncoder | None) -> None:
    index = DuplicateIndex.load(EARLIER, encoder)
    new = ticket(4, "Payment broken at checkout", "Card payment fails with an error.", 20)
    found = index.similar(new, 2)
    assert found[0].id == "1"
    assert (found[0].cosine is None) == (encoder is None)


def test_a_paraphrase_sharing_no_word_is_found_by_the_encoder() -> None:
    index = DuplicateIndex.load(EARLIER, ConceptEncoder())
    found = index.similar(ticket(4, "pay outage", "", 20), 1)
    assert found[0].id == "1" and found[0].lexical == 0.0 and found[0].cosine is not None and found[0].cosine > 0


def test_a_ticket_close_in_both_readings_outranks_one_close_in_its_summary_only() -> None:
    # Concepts of the fake encoder: "pay" and "checkout" are payment, "error" and "fails" are fail.
    index = DuplicateIndex.load([
        ticket(1, "pay error", "router wifi modem lights printer scanner", 0),  # summary 1.0, full 0.29
        ticket(2, "checkout refund", "invoice account delete", 5),  # summary 0.5, full 0.91
    ], ConceptEncoder(dimension=4096), weights=Weights(lexical=0.0))
    found = index.similar(ticket(3, "checkout fails", "refund account invoice delete", 10), 2)
    assert [c.id for c in found] == ["2", "1"]
    assert found[0].cosine == pytest.approx((0.5 + 5 / 30 ** 0.5) / 2, abs=1e-3)  # each reading has half the say


TRACE = """java.lang.NullPointerException: cluster state unknown
	at org.apache.hadoop.hdfs.DFSClient.open(DFSClient.java:1021)
	at org.apache.hadoop.fs.FileSystem.get(FileSystem.java:512)
2026-12-01 09:00:13,201 ERROR namenode.NameNode: replication queue stalled, retrying
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:60.0) Gecko/20100101 SeaMonkey/2.53.1"""


def test_the_head_is_the_summary_and_the_descriptions_prose_without_traces_or_logs() -> None:
    description = f"Opening any file fails after the upgrade.\n{TRACE}\nIt worked on 3.3."
    item = TicketText("1", "Reading a file fails", description)
    assert item.head == ("Reading a file fails\nOpening any file fails after the upgrade.\n"
                         "java.lang.NullPointerException: cluster state unknown\nIt worked on 3.3.")
    assert "DFSClient" in item.full  # the lexical index still reads the trace
    assert len(TicketText("2", "Slow", "word " * 500).head) == HEAD_CHARS


def test_a_pasted_trace_does_not_move_a_ticket_away_from_its_duplicate() -> None:
    index = DuplicateIndex.load([ticket(1, "Checkout crashes on payment", "The card step fails.", 0)],
                                ConceptEncoder(dimension=4096))
    frames = TRACE.split("\n", 1)[1]  # the frames, a log line and a header; not the exception's own line
    parts = index.parts(ticket(2, "Checkout crashes on payment", f"The card step fails.\n{frames}", 5))
    assert parts is not None and parts.head is not None and parts.head[0] == pytest.approx(1.0, abs=1e-5)


def test_only_earlier_tickets_are_candidates_and_never_the_ticket_itself() -> None:
    index = DuplicateIndex.load(EARLIER, ConceptEncoder())
    assert {c.id for c in index.similar(EARLIER[2], 5)} == {"1", "2"}
    assert index.similar(EARLIER[0], 5) == []  # the first ticket has nothing before it
    later = ticket(9, "Checkout crashes on payment", "", -30)  # created before every indexed ticket
    assert index.similar(later, 5) == []
    assert {c.id for c in index.similar(later, 5, before=T0 + timedelta(hours=1))} == {"1", "2", "3"}


def as_ticket(text: TicketText) -> Ticket:
    return Ticket(id=text.id, subject=text.summary, description=text.description, created_at=text.created)


@pytest.mark.parametrize("encoder", [ConceptEncoder(), None], ids=["encoder", "lexical-only"])
def test_the_finder_scores_a_share_of_a_perfect_match_and_keeps_its_encoders_thresholds(
        encoder: ConceptEncoder | None) -> None:
    finder = IndexFinder(DuplicateIndex(encoder))
    finder.remember(EARLIER)
    same = as_ticket(ticket(4, EARLIER[0].summary, EARLIER[0].description, 30))
    unrelated = as_ticket(ticket(5, "Where is the API documentation", "", 30))
    found = finder.similar(same, 3)
    assert found[0] == ("1", 1.0)  # the same text scores a perfect match, with or without the encoder
    assert all(0.0 <= score <= 1.0 for _, score in found + finder.similar(unrelated, 3))
    assert all(score < finder.same for _, score in finder.similar(unrelated, 3))
    assert (finder.duplicate, finder.same) == THRESHOLDS[encoder is not None]
    assert (IndexFinder(DuplicateIndex(encoder), duplicate=0.9).duplicate, finder.same) == (
        0.9, THRESHOLDS[encoder is not None][1])


def test_a_page_is_encoded_in_one_batch_and_compared_from_memory() -> None:
    encoder = ConceptEncoder()
    store = MemoryCache()
    finder = IndexFinder(DuplicateIndex(encoder, cache=PageCache(store)))
    page = [as_ticket(t) for t in EARLIER]
    finder.prepare(page)
    assert encoder.calls == 2  # summaries and full texts, one batch each
    reads = []
    store.get_many = lambda kind, versions: reads.append(kind) or {}  # type: ignore[method-assign]
    for item in page:
        finder.similar(item, 3)
        finder.add(item)
    assert encoder.calls == 2 and reads == []  # nothing encoded again, the store not asked again


def test_add_many_encodes_in_one_batch_and_known_tickets_are_not_encoded_again() -> None:
    encoder = ConceptEncoder()
    index = DuplicateIndex(encoder)
    index.add_many(EARLIER)
    assert encoder.calls == 2 and encoder.texts == 6  # one batch of summaries, one of full texts
    index.add(EARLIER[0])
    index.similar(EARLIER[1], 3)  # an indexed ticket's own vectors are reused
    assert encoder.calls == 2 and len(index) == 3


def test_prepared_tickets_are_not_encoded_again_when_added() -> None:
    encoder = ConceptEncoder()
    index = DuplicateIndex(encoder)
    index.prepare(EARLIER)
    calls = encoder.calls
    for item in EARLIER:
        index.similar(item, 3)
        index.add(item)
    assert encoder.calls == calls


def test_groups_are_the_connected_components_of_the_pairs() -> None:
    groups = duplicate_groups([("1", ["2"]), ("3", ["2", "4"]), ("7", ["8"])])
    assert groups["1"] == groups["2"] == groups["3"] == groups["4"] != groups["7"] == groups["8"]


def test_replay_ranks_each_ticket_that_has_an_earlier_duplicate() -> None:
    tickets = [*EARLIER, ticket(4, "Payment broken at checkout", "", 20), ticket(5, "avatar picture change", "", 25),
               ticket(6, "Nothing like anything", "", 30)]
    groups = duplicate_groups([("4", ["1"]), ("2", ["5"])])
    ranks = replay(DuplicateIndex(ConceptEncoder()), list(reversed(tickets)), groups)
    assert ranks == [1, 1]  # ticket 4 finds 1, ticket 5 finds 2; the first of each group is no query


def test_ten_thousand_tickets_fit_in_little_memory() -> None:
    encoder = ConceptEncoder(dimension=384)
    index = DuplicateIndex(encoder)
    index.add_many([ticket(i, f"summary {i} word{i % 97}", f"description {i % 13}", i) for i in range(10_000)])
    assert index._summaries.rows.nbytes + index._heads.rows.nbytes == 2 * 10_000 * 384 * 4
