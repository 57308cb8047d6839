"""The conversation generator writes realistic, deterministic, labelled Beacon conversations."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from frontline.demo.conversations import (
    ESCALATION_SHARE,
    KINDS,
    LIFECYCLES,
    STATES,
    generate_conversations,
    write_jsonl,
)
from frontline.demo.generator import DEFAULT_START, PLANS

Record = dict[str, object]
Part = dict[str, str]
# The escalation keywords (config/escalation.py) with their inflections, as a detector sees them.
FRUSTRATION = re.compile(
    r"\b(cancel|frustrat|unacceptabl|terribl|worst|manager|supervisor|lawsuit|legal|refund"
    r"|ridiculous|disappoint|angr)\w*", re.IGNORECASE)


@pytest.fixture(scope="module")
def conversations() -> list[Record]:
    """Three thousand conversations with the default seed."""
    return generate_conversations(3000)


def parse(stamp: object) -> datetime:
    """Parse the generator's ISO 8601 UTC stamp."""
    assert isinstance(stamp, str) and stamp.endswith("Z")
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def parts_of(record: Record) -> list[Part]:
    """The record's parts, checked to be a list of dicts."""
    parts = record["parts"]
    assert isinstance(parts, list)
    return parts


def label_of(record: Record) -> dict[str, object]:
    """The generator's ground truth for the record."""
    label = record["label"]
    assert isinstance(label, dict)
    return label


def customer_said(record: Record) -> list[str]:
    """What the customer wrote: their comments, not events, notes, agents or the bot."""
    return [p["body"] for p in parts_of(record) if p["author"] == "customer"
            and p["kind"] == "comment"]


def others_said(record: Record) -> list[str]:
    """Everything else: agent replies, internal notes, bot messages."""
    return [p["body"] for p in parts_of(record) if p["author"] != "customer"]


def frustrated(texts: list[str]) -> bool:
    """Whether any text carries an escalation keyword."""
    return any(FRUSTRATION.search(text) for text in texts)


def test_same_seed_gives_the_same_conversations_whatever_the_global_random_state() -> None:
    random.seed(1)
    first = generate_conversations(300, seed=5)
    random.seed(2)
    second = generate_conversations(300, seed=5)
    assert first == second
    assert generate_conversations(300, seed=6) != first


def test_records_have_the_intercom_like_shape(conversations: list[Record]) -> None:
    for record in conversations:
        assert set(record) - {"format"} == {"id", "title", "state", "created_at", "updated_at", "contact",
                                            "company", "parts", "label"}
        # An HTML conversation says so, or its bodies would be stored with their tags.
        html = any(p["body"].startswith(("<p>", "<div")) for p in record["parts"])  # type: ignore[union-attr, index]
        assert record.get("format") == ("html" if html else None)
        assert isinstance(record["id"], str) and isinstance(record["title"], str)
        assert record["state"] in STATES
        contact = record["contact"]
        assert isinstance(contact, dict) and contact["name"] and "@" in contact["email"]
        company = record["company"]
        if company is not None:
            assert isinstance(company, dict)
            assert set(company) == {"name", "plan", "mrr", "lifecycle"}
            assert company["plan"] in PLANS and company["lifecycle"] in LIFECYCLES
            assert isinstance(company["mrr"], float)
        for part in parts_of(record):
            assert set(part) == {"author", "author_name", "kind", "body", "created_at"}
            assert part["author"] in ("customer", "agent", "bot") and part["kind"] in KINDS
            assert part["author_name"]
            assert part["body"] or part["kind"] in ("open", "close")
    assert {r["state"] for r in conversations} == set(STATES)
    assert {c["lifecycle"] for r in conversations if isinstance(c := r["company"], dict)} \
        == set(LIFECYCLES)


def test_ids_follow_creation_order(conversations: list[Record]) -> None:
    ids = [int(str(r["id"])) for r in conversations]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    created = [parse(r["created_at"]) for r in conversations]
    assert created == sorted(created)


def test_every_part_is_in_time_order_and_bounds_the_conversation(
        conversations: list[Record]) -> None:
    for record in conversations:
        times = [parse(p["created_at"]) for p in parts_of(record)]
        assert times == sorted(times), record["id"]
        assert parse(record["created_at"]) == times[0]
        assert parse(record["updated_at"]) == times[-1] <= DEFAULT_START
        assert parts_of(record)[0]["author"] == "customer"


def test_now_sets_the_end_of_the_window() -> None:
    now = datetime(2027, 3, 3, 12, 0)  # naive: taken as UTC
    records = generate_conversations(200, now=now)
    end = parse("2027-03-03T12:00:00Z")
    assert all(parse(r["updated_at"]) <= end for r in records)
    assert min(parse(r["created_at"]) for r in records) > end - timedelta(days=42)
    assert max(parse(r["updated_at"]) for r in records) > end - timedelta(days=1)


def test_the_clock_moves_the_conversations_but_never_changes_them() -> None:
    # A night and a Sunday afternoon: hours and weekdays must not steer what is generated.
    night, sunday = datetime(2026, 12, 3, 3, 17), datetime(2027, 2, 14, 15, 45, 30)
    first, second = generate_conversations(60, now=night), generate_conversations(60, now=sunday)
    gap = sunday - night

    def moved(record: Record) -> Record:
        """The record with every timestamp moved by ``gap``."""
        text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                      lambda stamp: f"{parse(stamp.group()) + gap:%Y-%m-%dT%H:%M:%SZ}", json.dumps(record))
        return dict(json.loads(text))

    assert [moved(r) for r in first] == second
    assert all(parse(r["updated_at"]) <= parse("2027-02-14T15:45:30Z") for r in second)


def test_a_fifth_of_conversations_should_escalate(conversations: list[Record]) -> None:
    share = sum(bool(label_of(r)["escalate"]) for r in conversations) / len(conversations)
    assert 0.15 <= share <= 0.25
    assert abs(share - ESCALATION_SHARE) < 0.03


def test_labels_say_why_and_when(conversations: list[Record]) -> None:
    for record in conversations:
        label = label_of(record)
        assert label["why"] and label["scenario"]
        assert (label["at"] is not None) == label["escalate"]
    scenarios = Counter((label_of(r)["scenario"], label_of(r)["escalate"]) for r in conversations)
    assert sum(1 for _, escalate in scenarios if escalate) >= 6
    assert sum(1 for _, escalate in scenarios if not escalate) >= 12


def test_escalations_turn_on_a_customer_message(conversations: list[Record]) -> None:
    positives = [r for r in conversations if label_of(r)["escalate"]]
    for record in positives:
        at = label_of(record)["at"]
        turning = [p for p in parts_of(record) if p["created_at"] == at]
        assert [(p["author"], p["kind"]) for p in turning] == [("customer", "comment")]
    # Most say it in words; some only show it (repeated, waiting, a cold last line).
    worded = sum(frustrated(customer_said(r)) for r in positives) / len(positives)
    assert 0.6 <= worded <= 0.95
    assert sum(len(customer_said(r)) > 3 for r in positives) / len(positives) > 0.3


def test_frustration_builds_across_the_customer_messages(conversations: list[Record]) -> None:
    building = [r for r in conversations if label_of(r)["scenario"] == "slow_burn"]
    assert building
    for record in building:
        said = customer_said(record)
        assert len(said) >= 3
        assert parse(parts_of(record)[-1]["created_at"]) - parse(record["created_at"]) \
            > timedelta(days=1)
        assert not FRUSTRATION.search(said[0]) or "refund" in said[0].lower()


def test_hard_negatives_carry_keywords_in_harmless_senses(conversations: list[Record]) -> None:
    negatives = [r for r in conversations if not label_of(r)["escalate"]]
    customer_text = [" ".join(customer_said(r)).lower() for r in negatives]
    assert sum(bool(FRUSTRATION.search(text)) for text in customer_text) / len(negatives) > 0.15
    for phrase in ("how do i cancel", "no need to cancel", "account manager", "legal name",
                   "not asking for a refund", "manager role"):
        assert any(phrase in text for text in customer_text), phrase


def test_agents_and_notes_use_keywords_the_customer_never_wrote(
        conversations: list[Record]) -> None:
    only_theirs = [r for r in conversations if not label_of(r)["escalate"]
                   and frustrated(others_said(r)) and not frustrated(customer_said(r))]
    assert len(only_theirs) / len(conversations) > 0.03
    notes = [p["body"] for r in only_theirs for p in parts_of(r) if p["kind"] == "note"]
    assert any("cancel" in note for note in notes)


def test_calm_conversations_can_be_long_chatty_or_reopened(conversations: list[Record]) -> None:
    calm = [r for r in conversations if not label_of(r)["escalate"]]

    def hours_open(record: Record) -> float:
        return (parse(record["updated_at"]) - parse(record["created_at"])).total_seconds() / 3600

    assert sum(hours_open(r) > 72 for r in calm) > 50
    assert sum(len(customer_said(r)) > 3 for r in calm) > 50
    assert sum(any(p["kind"] == "open" for p in parts_of(r)) for r in calm) > 50
    assert sum(customer_said(r)[-1].lower().startswith(("thanks", "perfect", "great"))
               for r in calm if customer_said(r)) > 300


def test_some_contacts_have_no_company(conversations: list[Record]) -> None:
    alone = [r for r in conversations if r["company"] is None]
    assert 0.04 <= len(alone) / len(conversations) <= 0.11
    assert all(isinstance(c := r["contact"], dict) and c["email"] for r in alone)


def test_closed_conversations_end_closed_and_replies_reopen_them(
        conversations: list[Record]) -> None:
    reopened = 0
    for record in conversations:
        parts = parts_of(record)
        assert (record["state"] == "closed") == (parts[-1]["kind"] == "close")
        kinds = [p["kind"] for p in parts]
        for i, kind in enumerate(kinds):
            if kind == "open":
                assert "close" in kinds[:i]
                assert (parts[i + 1]["author"], parts[i + 1]["kind"]) == ("customer", "comment")
                reopened += 1
    assert reopened > 100
    assert any(p["kind"] == "open" for r in conversations if label_of(r)["escalate"]
               for p in parts_of(r))


def test_the_bot_greets_and_auto_closes(conversations: list[Record]) -> None:
    with_bot = [r for r in conversations if any(p["author"] == "bot" for p in parts_of(r))]
    assert len(with_bot) / len(conversations) > 0.3
    assert any(p["author"] == "bot" and p["kind"] == "close"
               for r in with_bot for p in parts_of(r))


def test_conversations_last_from_minutes_to_days(conversations: list[Record]) -> None:
    spans = [parse(r["updated_at"]) - parse(r["created_at"]) for r in conversations]
    assert min(spans) < timedelta(minutes=30)
    assert max(spans) > timedelta(days=7)


def test_text_is_varied_and_sometimes_html_non_native_or_informal(
        conversations: list[Record]) -> None:
    openers = [customer_said(r)[0] for r in conversations]
    assert len(set(openers)) / len(openers) > 0.6
    said = [text for r in conversations for text in customer_said(r)]
    assert len(set(said)) > 3000
    html = sum(openers[i].startswith(("<p>", "<div")) for i in range(len(openers)))
    assert 0.1 < html / len(openers) < 0.3
    assert any("Kindly" in text or "I am not able" in text for text in said)
    assert any(text[:1].islower() for text in said)


def test_records_round_trip_through_json_lines(conversations: list[Record], tmp_path: Path) -> None:
    path = tmp_path / "conversations.jsonl"
    write_jsonl(conversations[:200], path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == conversations[:200]


def test_ten_thousand_conversations_are_generated() -> None:
    records = generate_conversations(10_000, seed=3)
    assert len({r["id"] for r in records}) == 10_000


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="n >= 0"):
        generate_conversations(-1)
    assert generate_conversations(0) == []
