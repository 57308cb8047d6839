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


@pytest.mark.parametrize(("text", "kind", "secret"), [
    ("schreib an jürgen@exämple.de bitte", "email", "jürgen@exämple.de"),
    ("почта: иван.петров@пример.рф", "email", "иван.петров@пример.рф"),
    ("idn jose@xn--exmple-cua.xn--p1ai ok", "email", "jose@xn--exmple-cua.xn--p1ai"),
    ("fullwidth dana＠acme.example here", "email", "dana＠acme.example"),
    ("card 4111.1111.1111.1111 ok", "card", "4111.1111.1111.1111"),
    ("card 4111_1111_1111_1111 ok", "card", "4111_1111_1111_1111"),
    ("card 4111\u00a01111\u00a01111\u00a01111 ok", "card", "4111\u00a01111\u00a01111\u00a01111"),
    ("card 4111\u202f1111\u202f1111\u202f1111 ok", "card", "4111\u202f1111\u202f1111\u202f1111"),
    ("card 4111  1111  1111  1111 ok", "card", "4111  1111  1111  1111"),
    ("uk +44 20 7946 0958 thanks", "phone", "7946 0958"),
    ("uk +44 (0)20 7946 0958 thanks", "phone", "7946 0958"),
    ("mobile 07700 900123 thanks", "phone", "900123"),
    ("fr 01 23 45 67 89 merci", "phone", "45 67 89"),
    ("fr +33 1 23 45 67 89 merci", "phone", "45 67 89"),
    ("fr 06.12.34.56.78 merci", "phone", "34.56.78"),
    ("de 030 12345678 danke", "phone", "12345678"),
    ("de 030/12345678 danke", "phone", "12345678"),
    ("de +49 30 12345678 danke", "phone", "12345678"),
    ("de 0151 23456789 danke", "phone", "23456789"),
    ("in 98765 43210 thanks", "phone", "98765"),
    ("in +91 98765 43210 thanks", "phone", "98765"),
    ("us 415.555.0132 thanks", "phone", "555.0132"),          # was kept: read as a version number
    ("us 1-800-555-0199 thanks", "phone", "555-0199"),        # was kept: the 1- before it hid it
    ("us 1 415 555 0132 thanks", "phone", "555 0132"),
    ("de +49\u00a030\u00a012345678 danke", "phone", "12345678"),  # was kept: no-break spaces
])
def test_national_and_non_ascii_shapes_are_replaced(text: str, kind: str, secret: str) -> None:
    result = redact(text)
    assert secret not in result.text, result.text
    assert f"[{kind}]" in result.text and result.found[kind] == 1


@pytest.mark.parametrize("text", [
    "order 4111111111111112 (fails Luhn) is late",
    "order #12345 and #9876543 shipped",
    "on 2024-03-15, 15.03.2024, 03/15/2024 and 15 March 2024",
    "versions 2.14.1, 10.0.19045 and 1.2.3.4 at 10:30",
    "amounts $1,234.56, €1.234,56 and 1 234,56 € and 12,345,678.90",
    "host 192.168.100.200 answered in 0.25 s, 99.9% of the time",
    "we have 250 seats, 12 admins and 3 workspaces",
    "total €10 000.00 paid, 12 345 678 $ left",  # thousands groups, not a phone
    "order 0112223355500 3 items",  # a long id then a count: not a card, though the digits pass Luhn
    "invoice INV-2024-0042 for ticket #123456",
    "on 2024-03-15 with version 1.2.3",
    "we have 250 seats and 12 admins",
])
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert redact(text).text == text


def test_digits_grouped_unlike_any_card_are_not_a_card() -> None:
    # 0201 000000 020 passes Luhn, but 4-6-3 is no card's printed grouping: it is a phone and more.
    assert redact("call 0201 000000 020/000000").found["card"] == 0


def test_an_invalid_iban_is_not_reported_as_one() -> None:
    assert "[iban]" not in redact("GB00 WEST 1234 5698 7654 32 fails mod 97").text


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB83 WEST 1234 5698 7654 32")


@given(st.text(max_size=300))
def test_redaction_never_crashes_and_is_idempotent(text: str) -> None:
    once = redact(text).text
    assert redact(once).text == once
