"""Domain types: ticket ids are normalised and idempotency keys are stable."""

from __future__ import annotations

import pytest

from frontline.model import Company, Ticket, effect_key, normalise_id


@pytest.mark.parametrize("raw", [4, 4.0, "4", "4.0", " 4 ", "4.00"])
def test_numeric_ticket_ids_normalise_to_the_same_string(raw: object) -> None:
    assert normalise_id(raw) == "4"


@pytest.mark.parametrize("raw", ["123456789012345678901234", "9007199254740993", "9007199254740993.0"])
def test_long_numeric_ids_keep_every_digit(raw: str) -> None:
    assert normalise_id(raw) == raw.removesuffix(".0")


@pytest.mark.parametrize("raw", ["ABC-12", "4.5", "1e3", "0042x", "007", "007.0x", "1_000", "\u0663", "+4", "-4", "4.",
                                 ".0", "4.0e0", "\uff14", "4\u00a0000"])
def test_other_ids_are_kept_as_written_so_different_ids_never_merge(raw: str) -> None:
    assert normalise_id(raw) == raw
    assert normalise_id(f" {raw}\t") == raw


@pytest.mark.parametrize(("raw", "expected"), [("007.0", "007"), ("0", "0"), ("0.000", "0"), (0.0, "0"),
                                               (10**30, str(10**30)), ("9" * 5000, "9" * 5000),
                                               ("9" * 5000 + ".0", "9" * 5000)])
def test_only_a_trailing_point_zero_is_dropped_from_ascii_digits(raw: object, expected: str) -> None:
    assert normalise_id(raw) == expected


def test_ids_that_look_alike_stay_apart() -> None:
    pairs = [("007", "7"), ("\u0663", "3"), ("1_000", "1000"), ("+4", "4"), ("1e3", "1000")]
    assert all(normalise_id(a) != normalise_id(b) for a, b in pairs)


@pytest.mark.parametrize("raw", ["", "   ", True, float("nan"), 4.5])
def test_invalid_ids_are_refused(raw: object) -> None:
    with pytest.raises(ValueError):
        normalise_id(raw)


def test_effect_keys_are_stable_and_distinct() -> None:
    assert effect_key("triage", "4", "alert", "1") == effect_key("triage", "4", "alert", "1")
    assert effect_key("triage", "4", "alert", "1") != effect_key("triage", "4", "writeback", "1")
    assert effect_key("triage", "4", "alert", "1") != effect_key("triage", "5", "alert", "1")


def test_inputs_hash_changes_with_text_and_customer_value() -> None:
    base = Ticket("1", "Subject", "Body", company=Company("Acme", "pro", 100.0))
    same = Ticket("1", "Subject", "Body", company=Company("Acme", "pro", 100.0))
    richer = Ticket("1", "Subject", "Body", company=Company("Acme", "enterprise", 100.0))
    assert base.inputs_hash() == same.inputs_hash() != richer.inputs_hash()
