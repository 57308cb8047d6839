"""Properties of redaction: whatever surrounds them, generated secrets never survive; order numbers do.

Emails, Luhn-valid card numbers (bare or grouped), valid IBANs and API keys / tokens are generated
and dropped into random text between ordinary separators; the redacted text must hold none of
them, and redacting again changes nothing. Numbers that fail the Luhn check stay as they are.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from frontline.decide.redact import iban_valid, luhn_valid, redact

PROSE = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)
SEPARATORS = st.sampled_from([" ", "  ", "\n", ", ", ": ", " (", ") ", " \"", "\" ", " <", "> ", "\t", " [", "] ",
                              "; ", "! ", "? ", ". "])
ALNUM = string.ascii_letters + string.digits


def _luhn_complete(prefix: str) -> str:
    """``prefix`` plus the check digit that makes it pass Luhn."""
    for digit in "0123456789":
        if luhn_valid(prefix + digit):
            return prefix + digit
    raise AssertionError("unreachable")


@st.composite
def cards(draw: st.DrawFn) -> str:
    """A Luhn-valid number of 13-19 digits, bare or in groups of four joined by spaces or dashes."""
    length = draw(st.integers(min_value=13, max_value=19))
    body = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    digits = _luhn_complete(draw(st.sampled_from("3456")) + body[1:])
    joiner = draw(st.sampled_from(["", " ", "-"]))
    return joiner.join(digits[i:i + 4] for i in range(0, len(digits), 4)) if joiner else digits


@st.composite
def order_numbers(draw: st.DrawFn) -> str:
    """A 13-19 digit number that fails Luhn (an order or invoice number)."""
    digits = draw(st.text("0123456789", min_size=13, max_size=19))
    last = next(d for d in "0123456789" if not luhn_valid(digits[:-1] + d))
    return digits[:-1] + last


@st.composite
def ibans(draw: st.DrawFn) -> str:
    """A valid IBAN: country, mod-97 check digits, an 11-30 character BBAN; compact or in groups of four."""
    country = draw(st.text(string.ascii_uppercase, min_size=2, max_size=2))
    bban = draw(st.text(string.ascii_uppercase + string.digits, min_size=11, max_size=30))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    compact = f"{country}{check:02d}{bban}"
    assert iban_valid(compact)
    if draw(st.booleans()):
        return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    return compact


def _word(alphabet: str, low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=low, max_size=high)


EMAILS = st.builds(
    lambda local, sep, more, host, tld: f"{local}{sep}{more}@{host}.{tld}" if more else f"{local}@{host}.{tld}",
    _word(string.ascii_lowercase + string.digits, 1, 12), st.sampled_from([".", "_", "+", "-"]),
    _word(string.ascii_lowercase + string.digits, 0, 8),
    st.lists(_word(string.ascii_lowercase + string.digits, 1, 10), min_size=1, max_size=3).map(".".join),
    _word(string.ascii_lowercase, 2, 6))
TOKENS = st.one_of(
    st.builds("sk-{}".format, _word(ALNUM + "_-", 20, 48)),
    st.builds("sk-or-v1-{}".format, _word(string.hexdigits.lower(), 32, 64)),
    st.builds("sk-proj-{}".format, _word(ALNUM + "_-", 20, 48)),
    st.builds(lambda kind, rest: f"xox{kind}-{rest}", st.sampled_from("bpa"), _word(ALNUM + "-", 10, 60)),
    st.builds("ghp_{}".format, _word(ALNUM, 36, 36)),
    st.builds("github_pat_{}".format, _word(ALNUM + "_", 30, 82)),
    st.builds("lin_api_{}".format, _word(ALNUM, 40, 40)),
    st.builds("ntn_{}".format, _word(ALNUM, 40, 46)),
    st.builds("secret_{}".format, _word(ALNUM, 43, 43)),
    st.builds("AKIA{}".format, _word(string.ascii_uppercase + string.digits, 16, 16)),
    st.builds("AIza{}".format, _word(ALNUM + "_-", 35, 35)),
    st.builds(lambda a, b, c: f"eyJ{a}.{b}.{c}", _word(ALNUM + "_-", 10, 40), _word(ALNUM + "_-", 10, 60),
              _word(ALNUM + "_-", 10, 43)),
)
BEARERS = st.builds(lambda scheme, token: (f"{scheme} {token}", token), st.sampled_from(["Bearer", "bearer"]),
                    _word(ALNUM + "._~+/-", 20, 60))
SECRETS = st.one_of(EMAILS.map(lambda s: (s, s, "email")), cards().map(lambda s: (s, s, "card")),
                    ibans().map(lambda s: (s, s, "iban")), TOKENS.map(lambda s: (s, s, "secret")),
                    BEARERS.map(lambda pair: (pair[0], pair[1], "secret")))


def _embed(draw: st.DrawFn, pieces: list[str]) -> str:
    """``pieces`` in random prose, each with a separator on both sides."""
    out = [draw(PROSE)]
    for piece in pieces:
        out += [draw(SEPARATORS), piece, draw(SEPARATORS), draw(PROSE)]
    return "".join(out)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), secrets=st.lists(SECRETS, min_size=1, max_size=4))
def test_every_generated_secret_is_removed_wherever_it_sits(data: st.DataObject,
                                                            secrets: list[tuple[str, str, str]]) -> None:
    text = _embed(data.draw, [shown for shown, _, _ in secrets])
    # The prose around them must not happen to hold a secret too (it is random: it could).
    assume(all(text.count(secret) == sum(secret in shown for shown, _, _ in secrets) for _, secret, _ in secrets))
    result = redact(text)
    for _, secret, kind in secrets:
        assert secret not in result.text, (kind, secret, result.text)
        assert sum(result.found.values()) >= 1
    assert redact(result.text).text == result.text


@settings(max_examples=300, deadline=None)
@given(data=st.data(), numbers=st.lists(order_numbers(), min_size=1, max_size=3),
       prefix=st.sampled_from(["order ", "#", "invoice no. ", "ref ", ""]))
def test_order_numbers_that_fail_luhn_are_kept(data: st.DataObject, numbers: list[str], prefix: str) -> None:
    text = _embed(data.draw, [f"{prefix}{n}" for n in numbers])
    result = redact(text)
    for number in numbers:
        assert number in result.text, (number, result.text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_redacting_twice_changes_nothing_and_placeholders_survive(text: str) -> None:
    once = redact(text)
    twice = redact(once.text)
    assert twice.text == once.text and sum(twice.found.values()) == 0


@pytest.mark.parametrize(("text", "secret"), [
    ("card 4111111111111111 12/27 thanks", "4111111111111111"),  # the expiry used to hide the card
    ("card 4111 1111 1111 1111 12/27", "4111 1111 1111 1111"),
    ("qty 2 4111 1111 1111 1111 exp 04/27", "4111 1111 1111 1111"),
    ("ref-4111111111111111", "4111111111111111"),
    ("4111111111111111-x", "4111111111111111"),
    ("3000 0000 0000 0000 7 on file", "3000 0000 0000 0000 7"),
    ("IBAN BE68539007547034 EUR", "BE68539007547034"),  # the currency used to hide the IBAN
    ("IBAN BE68 5390 0754 7034 EUR please", "BE68 5390 0754 7034"),
    ("XX12 DE89 3704 0044 0532 0130 00 EUR", "DE89 3704 0044 0532 0130 00"),
])
def test_a_card_or_iban_is_found_inside_what_follows_or_precedes_it(text: str, secret: str) -> None:
    result = redact(text)
    assert secret not in result.text and "5390" not in result.text
    assert result.found["card"] + result.found["iban"] == 1
