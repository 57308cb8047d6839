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


@pytest.mark.parametrize("raw", ["ABC-12", "4.5", "1e3", "0042x"])
def test_non_integer_ids_are_kept_as_text(raw: str) -> None:
    assert normalise_id(raw) == raw


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
