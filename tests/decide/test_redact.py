"""Personal data and secrets are redacted before text leaves the machine; ordinary numbers survive."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontline.decide.redact import iban_valid, luhn_valid, redact


@pytest.mark.parametrize(("text", "kind", "secret"), [
    ("write to jo.doe+billing@acme.co.uk today", "email", "jo.doe+billing@acme.co.uk"),
    ("call me on +1 (415) 555-0132", "phone", "555-0132"),
    ("my mobile is 020 7946 0958", "phone", "7946 0958"),
    ("card 4111 1111 1111 1111 expires 04/27", "card", "4111 1111 1111 1111"),
    ("card 5500-0000-0000-0004 was declined", "card", "5500-0000-0000-0004"),
    ("IBAN GB82 WEST 1234 5698 7654 32 please", "iban", "GB82 WEST 1234 5698 7654 32"),
    ("iban DE89370400440532013000", "iban", "DE89370400440532013000"),
    ("my key is sk-or-v1-0123456789abcdef0123 oops", "secret", "sk-or-v1-0123456789abcdef0123"),
    ("slack xoxb-2222-abcdefghijklmn leaked", "secret", "xoxb-2222-abcdefghijklmn"),
    ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz123456", "secret", "abcdefghijklmnopqrstuvwxyz123456"),
    ("token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "secret", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
])
def test_each_kind_is_replaced_by_its_placeholder(text: str, kind: str, secret: str) -> None:
    result = redact(text)
    assert secret not in result.text
    assert f"[{kind}]" in result.text
    assert result.found[kind] == 1


@pytest.mark.parametrize("text", [
    "order 4111111111111112 (fails Luhn) is late",
    "invoice INV-2024-0042 for ticket #123456",
    "on 2024-03-15 with version 1.2.3",
    "we have 250 seats and 12 admins",
])
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert redact(text).text == text


def test_an_invalid_iban_is_not_reported_as_one() -> None:
    assert "[iban]" not in redact("GB00 WEST 1234 5698 7654 32 fails mod 97").text


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB83 WEST 1234 5698 7654 32")


@given(st.text(max_size=300))
def test_redaction_never_crashes_and_is_idempotent(text: str) -> None:
    once = redact(text).text
    assert redact(once).text == once
