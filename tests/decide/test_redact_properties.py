"""Properties of redaction: whatever surrounds them, generated secrets never survive; order numbers do.

Emails, Luhn-valid card numbers (bare or grouped), valid IBANs and API keys / tokens are generated
and dropped into random text between ordinary separators; the redacted text must hold none of
them, and redacting again changes nothing. Numbers that fail the Luhn check stay as they are.
"""

from __future__ import annotations

import re
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


# -- shapes beyond ASCII and the North-American phone --------------------------------------------------
DIGITS = "0123456789"
CARD_SEPARATORS = st.sampled_from([" ", "-", ".", "_", "\u00a0", "\u202f", "  ", "\u2009"])
LETTERS = string.ascii_lowercase + "äöüßéèçñåøжяиλπ"


@st.composite
def separated_cards(draw: st.DrawFn) -> str:
    """A Luhn-valid 16-digit number in groups of four joined by one separator (dots, underscores, NBSP…)."""
    digits = _luhn_complete(draw(st.sampled_from("3456")) + draw(st.text(DIGITS, min_size=14, max_size=14)))
    joiner = draw(CARD_SEPARATORS)
    return joiner.join(digits[i:i + 4] for i in range(0, 16, 4))


def _digits(low: int, high: int = 0, first: str = DIGITS) -> st.SearchStrategy[str]:
    size = high or low
    return st.builds(lambda head, rest: head + rest, st.sampled_from(first),
                     st.text(DIGITS, min_size=low - 1, max_size=size - 1))


SPACE = st.sampled_from([" ", "\u00a0"])
PHONES = st.one_of(
    # United Kingdom: 020 7946 0958, +44 20 7946 0958, +44 (0)20 7946 0958, 07700 900123
    st.builds(lambda a, b, c, s: f"0{a}{s}{b}{s}{c}", _digits(2, first="123"), _digits(4), _digits(4), SPACE),
    st.builds(lambda a, b, c, zero: f"+44 {zero}{a} {b} {c}", _digits(2, first="123"), _digits(4), _digits(4),
              st.sampled_from(["", "(0)"])),
    st.builds(lambda a, b: f"07{a} {b}", _digits(3), _digits(6)),
    # France: 01 23 45 67 89 (spaces, dots or dashes), +33 1 23 45 67 89
    st.builds(lambda head, pairs, s: f"0{head}{s}" + s.join(pairs), st.sampled_from("123456789"),
              st.lists(_digits(2), min_size=4, max_size=4), st.sampled_from([" ", ".", "-"])),
    st.builds(lambda head, pairs: f"+33 {head} " + " ".join(pairs), st.sampled_from("123456789"),
              st.lists(_digits(2), min_size=4, max_size=4)),
    # Germany: 030 12345678, 030/12345678, 0151 23456789, +49 30 12345678
    st.builds(lambda area, number, s: f"0{area}{s}{number}", _digits(2, 4, first="123456789"), _digits(6, 8),
              st.sampled_from([" ", "/", "-"])),
    st.builds(lambda area, number: f"+49 {area} {number}", _digits(2, 3, first="123456789"), _digits(6, 8)),
    # India: 98765 43210, +91 98765 43210, +91-9876543210
    st.builds(lambda a, b: f"{a} {b}", _digits(5, first="6789"), _digits(5)),
    st.builds(lambda a, b: f"+91 {a} {b}", _digits(5, first="6789"), _digits(5)),
    st.builds(lambda a: f"+91-{a}", _digits(10, first="6789")),
    # North America: (415) 555-0132, 415-555-0132, +1 415 555 0132
    st.builds(lambda a, b, c: f"({a}) {b}-{c}", _digits(3, first="23456789"), _digits(3), _digits(4)),
    st.builds(lambda a, b, c: f"+1 {a} {b} {c}", _digits(3, first="23456789"), _digits(3), _digits(4)),
    # ... dotted (415.555.0132) or after the country code without its + (1-800-555-0199, 1 415 555 0132)
    st.builds(lambda a, b, c: f"{a}.{b}.{c}", _digits(3, first="23456789"), _digits(3), _digits(4)),
    st.builds(lambda a, b, c, s: f"1{s}{a}{s}{b}{s}{c}", _digits(3, first="23456789"), _digits(3), _digits(4),
              st.sampled_from(["-", " ", "."])),
    # International numbers spaced with no-break spaces, as word processors and chat apps write them
    st.builds(lambda area, number, s: f"+49{s}{area}{s}{number}", _digits(2, 3, first="123456789"), _digits(6, 8),
              st.sampled_from(["\u00a0", "\u202f"])),
    st.builds(lambda a, b, c: f"+44\u00a0{a}\u00a0{b}\u00a0{c}", _digits(2, first="123"), _digits(4), _digits(4)),
)
UNICODE_EMAILS = st.builds(
    lambda local, labels, tld, at: f"{local}{at}{'.'.join(labels)}.{tld}",
    _word(LETTERS + string.digits, 1, 12).filter(lambda w: w[0].isalnum()),
    st.lists(_word(LETTERS + string.digits, 1, 10), min_size=1, max_size=3),
    st.one_of(_word("abcdefghijklmnopqrstuvwxyzрфдеюя", 2, 6), st.just("xn--p1ai")),
    st.sampled_from(["@", "@", "@", "＠"]),
)
WIDER = st.one_of(separated_cards().map(lambda s: (s, "card")), PHONES.map(lambda s: (s, "phone")),
                  UNICODE_EMAILS.map(lambda s: (s, "email")))


def _core(secret: str) -> str:
    """The part of a generated value that must not survive: its digits run, or the email's local part and @."""
    if "@" in secret or "＠" in secret:
        return secret
    return re.sub(r"^\D+", "", secret)[-7:]  # the last seven digits (with their separators) identify a number


# Prose without digits: digits around a number would make another, longer one (what is then "the" number?).
WORDS = st.text(st.characters(blacklist_categories=["Cs", "Nd", "No", "Nl"]), max_size=40)


@settings(max_examples=500, deadline=None)
@given(data=st.data(), secrets=st.lists(WIDER, min_size=1, max_size=3))
def test_national_phones_separated_cards_and_unicode_emails_are_removed(data: st.DataObject,
                                                                       secrets: list[tuple[str, str]]) -> None:
    out = [data.draw(WORDS)]
    for shown, _ in secrets:
        out += [data.draw(SEPARATORS), shown, data.draw(SEPARATORS), data.draw(WORDS)]
    text = "".join(out)
    # The prose around them must not hold their digits too (it is random: it could).
    assume(all(text.count(_core(secret)) == 1 for secret, _ in secrets))
    result = redact(text)
    for secret, kind in secrets:
        assert _core(secret) not in result.text, (kind, secret, result.text)
    assert redact(result.text).text == result.text


ORDINARY = st.one_of(
    st.builds("#{}".format, _digits(3, 8)),
    st.builds("order {}".format, _digits(4, 8, first="123456789")),
    st.builds("INV-{}-{}".format, _digits(4), _digits(4)),
    st.builds(lambda y, m, d: f"{y}-{m:02d}-{d:02d}", st.integers(1990, 2040), st.integers(1, 12), st.integers(1, 28)),
    st.builds(lambda y, m, d: f"{d:02d}.{m:02d}.{y}", st.integers(1990, 2040), st.integers(1, 12), st.integers(1, 28)),
    st.builds(lambda y, m, d: f"{m:02d}/{d:02d}/{y}", st.integers(1990, 2040), st.integers(1, 12), st.integers(1, 28)),
    st.builds(lambda a, b, c: f"v{a}.{b}.{c}", st.integers(0, 30), st.integers(0, 99), st.integers(0, 9999)),
    st.builds(lambda a, b, c: f"{a}.{b}.{c}", st.integers(0, 30), st.integers(0, 99), st.integers(0, 999)),
    st.builds(lambda n, c: f"${n:,}.{c:02d}", st.integers(0, 10**9), st.integers(0, 99)),
    st.builds(lambda n, c: f"€{n:,}.{c:02d}".replace(",", " "), st.integers(0, 10**6), st.integers(0, 99)),
    st.builds(lambda n: f"{n} seats", st.integers(0, 100_000)),
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), numbers=st.lists(ORDINARY, min_size=1, max_size=4))
def test_order_ids_dates_versions_and_amounts_survive(data: st.DataObject, numbers: list[str]) -> None:
    pieces = [f"{number}." if n % 2 else number for n, number in enumerate(numbers)]
    text = "ref " + " and ".join(pieces) + " thanks"
    result = redact(text)
    assert result.text == text, (text, result.text)
