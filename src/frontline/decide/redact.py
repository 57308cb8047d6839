"""Personal data and secrets removed from text before it leaves the machine (e.g. to an LLM).

Each kind is replaced by a bracketed placeholder (``[email]``, ``[phone]``, ``[card]``,
``[iban]``, ``[secret]``) so the model still sees that something was there. Card numbers are
only redacted when they pass the Luhn check and IBANs when they pass the mod-97 check, so order
numbers and invoice ids survive; phone numbers need 7–15 digits in a phone-like shape.

The shapes are wider than ASCII and North America: email addresses in any script (``jürgen@exämple.de``,
IDN ``xn--`` domains, a fullwidth ``＠``); card digits grouped by spaces, dashes, dots, underscores,
no-break or thin spaces, or two of them; phones written the national way — an international ``+CC``
number, a trunk-prefixed one (``020 7946 0958``, ``01 23 45 67 89``, ``030 12345678``, ``030/12345678``)
or an Indian mobile (``98765 43210``), a North American one dotted or after a bare ``1``
(``415.555.0132``, ``1-800-555-0199``), and international numbers spaced with no-break spaces.
What keeps ordinary numbers: a phone-shaped run that reads as a
date or version, or as an amount (a currency sign beside it, or thousands groups with decimals:
``€10 000.00``) is left alone, and an order id after ``#`` never starts a phone.

Cards and IBANs are looked for inside what surrounds them, not only as whole runs: a card number
followed by its expiry ("4111 1111 1111 1111 12/27") or an IBAN followed by a currency ("BE68 5390
0754 7034 EUR") is a run that as a whole fails its checksum, and the number inside it must still go.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_SECRET = re.compile(
    r"""
    \b(?:
        sk-(?:or-v1-|proj-|ant-)?[A-Za-z0-9_\-]{16,}       # OpenAI / OpenRouter / Anthropic keys
      | xox[abposr]-[A-Za-z0-9\-]{10,}                    # Slack tokens
      | gh[pousr]_[A-Za-z0-9]{30,}                        # GitHub tokens
      | github_pat_[A-Za-z0-9_]{30,}
      | lin_(?:api|oauth)_[A-Za-z0-9]{20,}                # Linear keys
      | secret_[A-Za-z0-9]{30,} | ntn_[A-Za-z0-9]{30,}    # Notion integration tokens
      | AKIA[0-9A-Z]{16}                                  # AWS access key ids
      | AIza[0-9A-Za-z_\-]{35}                            # Google API keys
      | eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}   # JWTs
    )
    | (?<=[Bb]earer\s)[A-Za-z0-9._~+/\-]{20,}=*                         # bearer tokens
    | (?<![A-Za-z0-9])(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{32,}(?![A-Za-z0-9])
    """,
    re.VERBOSE,
)
# \w is Unicode-aware: local parts and domains in any script; the top-level domain is letters or xn--.
_EMAIL = re.compile(r"(?<![\w.%+\-])[\w\u0300-\u036f.%+\-]+[@\uff20\ufe6b][\w\u0300-\u036f\-]+"
                    r"(?:\.[\w\u0300-\u036f\-]+)*\.(?:xn--[\w\-]+|[^\W\d_]{2,})\b")
# Runs that may hold an IBAN (upper-case words after a country code and check digits) or a card
# number (groups of digits joined by single spaces or dashes); the number is looked for inside.
_IBAN_RUN = re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]*(?: [A-Z0-9]+)*\b")
_IBAN_START = re.compile(r"[A-Z]{2}\d{2}")
# Card groups are joined by a space, dash, dot, underscore, no-break or thin space, or two spaces.
_CARD_SEPARATOR = "(?:[ \u00a0\u202f]{2}|[ \\-._\u00a0\u2007\u2009\u202f])"
_DIGIT_RUN = re.compile(rf"(?<!\d)\d+(?:{_CARD_SEPARATOR}\d+)*(?!\d)")
_GROUP_SEPARATOR = re.compile(f"({_CARD_SEPARATOR})")
# Tried in this order, each on what the previous left: international, trunk-prefixed national, Indian
# mobile, then the general shape (North American and the rest).
_PHONES = (
    re.compile(r"(?<![\w+\-/#.,])\+\d{1,3}(?:[ .\-\u00a0\u202f]?\(0\))?(?:[ .\-/\u00a0\u202f]?\(?\d{1,5}\)?){1,6}"
               r"(?![\w])"),
    re.compile(r"(?<![\w+\-/#.,])\(?0\d{1,4}\)?(?:[ .\-/]\d{2,8}){1,4}(?![\w])"),
    re.compile(r"(?<![\w+\-/#.,])[6-9]\d{4}[ \-]\d{5}(?![\w])"),
    re.compile(r"(?<![\w+\-/#])(?:\+\d{1,3}[\s.\-]?|1[\s.\-])?(?:\(\d{1,4}\)[\s.\-]?)?\d{2,4}(?:[\s.\-]\d{2,5}){1,4}(?![\w])"
               r"|(?<![\w+])\+\d{7,15}(?!\w)"),
)
_CURRENCY = "$€£¥₹₽₩¢"
_AMOUNT = re.compile(r"^\d{1,3}(?:[ .,\u00a0\u202f]\d{3})+(?P<decimals>[.,]\d{1,2})?$")


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum used by payment cards."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """True when ``candidate`` passes the ISO 13616 mod-97 check."""
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


@dataclass(frozen=True)
class Redacted:
    """Text with personal data replaced, and how many of each kind were found."""

    text: str
    found: Counter[str]


def redact(text: str) -> Redacted:
    """Replace secrets, emails, IBANs, card numbers and phone numbers with placeholders."""
    found: Counter[str] = Counter()

    def secret(match: re.Match[str]) -> str:
        found["secret"] += 1
        return "[secret]"

    def email(match: re.Match[str]) -> str:
        found["email"] += 1
        return "[email]"

    def iban(match: re.Match[str]) -> str:
        return _ibans_in(match.group(0), found)

    def card(match: re.Match[str]) -> str:
        return _cards_in(match.group(0), found)

    def phone(match: re.Match[str]) -> str:
        value = whole = match.group(0)
        if _looks_like_amount(match):
            return value
        # Digits written right after a number ("+91-98765 43210 2 times") make it too long: drop them.
        while len(re.sub(r"\D", "", value)) > 15 and re.search(r"[ .\-/]\(?\d+\)?$", value):
            value = re.sub(r"[ .\-/]\(?\d+\)?$", "", value)
        if not 7 <= len(re.sub(r"\D", "", value)) <= 15 or _looks_like_date_or_version(value):
            return whole
        found["phone"] += 1
        return "[phone]" + whole[len(value):]

    text = _SECRET.sub(secret, text)
    text = _EMAIL.sub(email, text)
    text = _IBAN_RUN.sub(iban, text)
    text = _DIGIT_RUN.sub(card, text)
    for pattern in _PHONES:
        text = pattern.sub(phone, text)
    return Redacted(text, found)


def redact_secrets(text: str) -> str:
    """Only the secrets (API keys, tokens, bearer credentials) replaced by ``[secret]``: for logs and errors."""
    return _SECRET.sub("[secret]", text)


def _ibans_in(run: str, found: Counter[str]) -> str:
    """``run`` (space-separated upper-case words) with each valid IBAN in it replaced, longest first."""
    words = run.split(" ")
    out: list[str] = []
    start = 0
    while start < len(words):
        end = None
        if _IBAN_START.match(words[start]):
            for stop in range(min(len(words), start + 34), start, -1):
                candidate = "".join(words[start:stop])
                if len(candidate) <= 34 and iban_valid(candidate):
                    end = stop
                    break
        if end is None:
            out.append(words[start])
            start += 1
        else:
            found["iban"] += 1
            out.append("[iban]")
            start = end
    return " ".join(out)


def _cards_in(run: str, found: Counter[str]) -> str:
    """``run`` (digit groups joined by spaces or dashes) with each Luhn-valid card number in it replaced.

    A card is one group of 13-19 digits, or consecutive groups adding up to 13-19 digits in the way
    cards are printed: groups of four then a last one of one to five (4-4-4-4, 4-4-4-4-3, 4-4-5), or
    4-6 then four or five (Diners, Amex); the longest such span wins. So a long number followed by a
    short one ("0112223355500 3": an order id and a count) or two phone numbers side by side
    ("0201 000000 020/…") are not taken for a card.
    A short group (the 03 of a date, the 12 of 12/27) only ever ends a span, so a date or a version
    next to a number does not make one.
    """
    parts = _GROUP_SEPARATOR.split(run)
    groups, separators = parts[0::2], [*parts[1::2], ""]
    out: list[str] = []
    start = 0
    while start < len(groups):
        end = None
        for stop in range(min(len(groups), start + 19), start, -1):
            span = groups[start:stop]
            digits = "".join(span)
            grouped = len(span) == 1 or _printed_like_a_card([len(group) for group in span])
            if 13 <= len(digits) <= 19 and grouped and luhn_valid(digits):
                end = stop
                break
        if end is None:
            out.append(groups[start] + separators[start])
            start += 1
        else:
            found["card"] += 1
            out.append("[card]" + separators[end - 1])
            start = end
    return "".join(out)


def _printed_like_a_card(sizes: list[int]) -> bool:
    """True for the group sizes cards are printed in: 4-4-…-(1 to 5), or 4-6-(4 or 5)."""
    *head, last = sizes
    return (all(size == 4 for size in head) and 1 <= last <= 5) or (head == [4, 6] and last in (4, 5))


_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$|^\d+(?:\.\d+){2,3}$")


# The North American way with dots (415.555.0132, 1.800.555.0199): a phone, though shaped like a version.
_NANP_DOTTED = re.compile(r"^(?:1\.)?\d{3}\.\d{3}\.\d{4}$")


def _looks_like_date_or_version(value: str) -> bool:
    value = value.strip()
    return bool(_DATE.match(value)) and not _NANP_DOTTED.match(value)


def _looks_like_amount(match: re.Match[str]) -> bool:
    """Thousands groups (10 000, 1.234.567) with decimals or a currency sign beside them: €10 000.00, 12 345 678 $."""
    value = match.group(0)
    shape = _AMOUNT.match(value)
    if not shape:
        return False
    before = match.string[:match.start()].rstrip(" \u00a0\u202f")[-1:]
    after = match.string[match.end():].lstrip(" \u00a0\u202f")[:1]
    return bool(shape.group("decimals")) or any(side and side in _CURRENCY for side in (before, after))
