"""Escalation keywords in customer text: word boundaries, inflections, negation and ignored phrases.

A configured word stands for its inflections, derived by rule rather than listed by hand:
``cancel`` also matches cancels, canceled/cancelled, canceling/cancelling and cancellation;
``frustrated`` matches frustrate, frustrating, frustration; ``angry`` angrier and angrily;
``terrible`` terribly. The rules over-generate (``refunder``, ``worsting``): those strings are almost
never words, which is cheaper than a dictionary; the rare real one (``worsted`` from ``worst``) can be
put in the ignore list.

Negation is the customer saying they do *not* want or feel the thing, in the same clause and a few
light words before it: "no need to cancel", "not cancelling", "I don't want a refund", "I'm not
angry". A failure told in the past still counts, because it is the complaint: "you didn't refund
me", "still not refunded", "I have not received my refund", "never got my refund".

Ignored phrases (``account manager``, ``cancel button``) are matched the same way, inflections
included; a keyword inside one does not count. A customer asking *how* to cancel is churn risk and
counts; naming the Cancel button of a dialog is a how-to about the interface and does not.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201b": "'", "\u02bc": "'", "\u2032": "'", "`": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"'})
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# A clause ends at sentence or clause punctuation; "but" and "however" also turn the meaning around.
_CLAUSE_BREAK = re.compile(r"[.!?;:,()\[\]\n\u2026\u2013\u2014]|\s-\s")
_TURNS = frozenset({"but", "however", "although", "though", "yet"})

_PEEL = ("ations", "ation", "ingly", "ings", "ing", "edly", "ed", "ments", "ment", "ions", "ion", "ness", "ly",
         "es", "s")
_VOWEL_SUFFIXES = ("ed", "edly", "ing", "ingly", "ion", "ions", "ation", "ations", "er", "ers", "est")
_OTHER_SUFFIXES = ("s", "es", "ly", "ment", "ments", "ness")
# Function words in a phrase are matched exactly ("speak to a manager", "rip off").
_EXACT = frozenset({"a", "an", "the", "to", "of", "off", "on", "in", "up", "out", "for", "with", "my", "our",
                    "your", "me", "us", "i", "we", "you", "it", "and", "or", "back", "at", "by", "no", "not"})

# Negators of intent or feeling; a past failure ("didn't", "never", "haven't") is the complaint itself.
_NEGATORS = frozenset({"not", "don't", "dont", "doesn't", "doesnt", "isn't", "isnt", "aren't", "arent",
                       "without", "nor", "neither"})
_NO_FRAMES = frozenset({"need", "reason", "plan", "plans", "intention", "intent", "desire", "wish", "longer",
                        "point", "rush"})
_NOT_NEEDED = frozenset({"needed", "necessary", "required", "wanted"})
# "still not", "have not", "was not": the thing did not happen, which is the complaint.
_NOT_NEGATING_BEFORE = frozenset({"still", "yet", "have", "has", "had", "was", "were", "been", "got", "get", "did",
                                  "i've", "we've", "you've", "they've"})
# Words that may stand between a negator and the keyword without ending its scope.
_LIGHT = frozenset({
    "to", "a", "an", "the", "any", "my", "our", "your", "this", "that", "it", "be", "being", "been", "am", "is",
    "are", "really", "very", "so", "too", "at", "all", "want", "wanna", "need", "wish", "plan", "planning",
    "intend", "intending", "going", "gonna", "looking", "trying", "asking", "for", "about", "feeling", "feel",
    "feels", "get", "getting", "seeking", "request", "requesting", "i", "we", "think", "i'll", "we'll", "will",
    "would", "i'd", "we'd", "even", "actually", "particularly", "that's", "at all", "or", "more",
    "you", "anyone", "someone", "to be",
})
_WINDOW = 4  # light words allowed between the negator and the keyword


def strip_markup(text: str) -> str:
    """Text with HTML tags and entities removed and curly quotes made straight (case kept)."""
    return _TAG.sub(" ", html.unescape(text)).translate(_QUOTES)


def normalise(text: str) -> str:
    """``strip_markup`` and lower-cased: what keywords are matched against."""
    return strip_markup(text).casefold()


@dataclass(frozen=True, slots=True)
class Token:
    """One word of normalised text, with the clause it belongs to."""

    word: str
    clause: int


def tokenize(text: str) -> list[Token]:
    """Words of ``normalise(text)``, each tagged with its clause number."""
    clean = normalise(text)
    tokens: list[Token] = []
    clause = 0
    last_end = 0
    for match in _TOKEN.finditer(clean):
        word = match.group(0)
        if word.endswith("'s"):
            word = word[:-2]
        if _CLAUSE_BREAK.search(clean, last_end, match.start()) or word in _TURNS:
            clause += 1
        last_end = match.end()
        tokens.append(Token(word, clause))
    return tokens


def _doubled(stem: str) -> str | None:
    """``cancel`` → ``cancell`` (before a vowel suffix: cancelled), for a consonant-vowel-consonant end."""
    if len(stem) >= 3 and stem[-1] not in "aeiouwxy" and stem[-2] in "aeiou" and stem[-3] not in "aeiou":
        return stem + stem[-1]
    return None


@lru_cache(maxsize=4096)
def inflections(word: str) -> frozenset[str]:
    """The forms a configured word stands for (the word itself, plural, past, -ing, -ion, -ment, -ly …)."""
    word = normalise(word).strip()
    if len(word) <= 2 or word in _EXACT or not word.isalpha():
        return frozenset({word})
    stems: set[str] = set()
    for suffix in _PEEL:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            base = word[: -len(suffix)]
            stems.add(base)
            if base[-1] == base[-2] and base[-1] not in "aeiou":
                stems.add(base[:-1])  # cancelled → cancel
            if suffix in ("ed", "ing", "ion", "ation", "edly", "ingly", "ions", "ations"):
                stems.add(base + "e")  # frustrated → frustrate
            if base.endswith("i"):
                stems.add(base[:-1] + "y")  # angrily → angry
            break
    forms = {word}
    for stem in stems or {word}:
        forms.add(stem)
        forms.update(stem + suffix for suffix in _OTHER_SUFFIXES)
        vowel_stems = {stem}
        if stem.endswith("e") and not stem.endswith("ee"):
            vowel_stems.add(stem[:-1])
        doubled = _doubled(stem)
        if doubled:
            vowel_stems.add(doubled)
        for vowel_stem in vowel_stems:
            forms.update(vowel_stem + suffix for suffix in _VOWEL_SUFFIXES)
        if len(stem) > 3 and stem.endswith("y") and stem[-2] not in "aeiou":
            forms.update(stem[:-1] + suffix for suffix in ("ies", "ied", "ier", "iest", "ily", "iness"))
        if stem.endswith("le"):
            forms.add(stem[:-1] + "y")  # terrible → terribly
    return frozenset(forms)


WILDCARD_SPAN = 2  # "*" in a phrase stands for up to this many words of the same clause


@dataclass(frozen=True, slots=True)
class _Phrase:
    text: str
    words: tuple[frozenset[str] | None, ...]  # None is the "*" wildcard

    @classmethod
    def parse(cls, text: str) -> _Phrase | None:
        parts = [part for part in normalise(text).split()]
        words: list[frozenset[str] | None] = []
        shown: list[str] = []
        for part in parts:
            if part == "*":
                if words and words[-1] is not None:
                    words.append(None)
                    shown.append("*")
                continue
            for token in tokenize(part):
                words.append(inflections(token.word))
                shown.append(token.word)
        while words and words[-1] is None:
            words.pop()
            shown.pop()
        return cls(" ".join(shown), tuple(words)) if words else None

    def end_at(self, tokens: Sequence[Token], start: int) -> int | None:
        """Where this phrase, starting at ``start``, ends (exclusive); None when it does not match there."""
        return self._match(tokens, start, 0, tokens[start].clause)

    def _match(self, tokens: Sequence[Token], position: int, index: int, clause: int) -> int | None:
        if index == len(self.words):
            return position
        forms = self.words[index]
        if forms is None:
            for skip in range(WILDCARD_SPAN + 1):
                if position + skip > len(tokens) or any(t.clause != clause for t in tokens[position:position + skip]):
                    break
                end = self._match(tokens, position + skip, index + 1, clause)
                if end is not None:
                    return end
            return None
        if position < len(tokens) and tokens[position].word in forms and tokens[position].clause == clause:
            return self._match(tokens, position + 1, index + 1, clause)
        return None


@dataclass(frozen=True, slots=True)
class KeywordHit:
    """A keyword found in text: the configured keyword, the words as written, and its word position."""

    keyword: str
    found: str
    position: int


class KeywordSpotter:
    """Finds configured escalation keywords in text, with inflections, negation and ignored phrases.

    A phrase may hold ``*`` for up to two words in between: ``speak * manager`` matches "speak to a
    manager" and "speaking with your manager"; ``cancel * invitation`` "cancel the invitation".
    """

    def __init__(self, keywords: Iterable[str], ignore: Iterable[str] = ()) -> None:
        self._keywords = self._index(keywords)
        self._ignore = self._index(ignore)

    @staticmethod
    def _index(phrases: Iterable[str]) -> dict[str, list[_Phrase]]:
        """Phrases by every form of their first word, longest first, so lookup is one dict hit per word."""
        index: dict[str, list[_Phrase]] = {}
        for raw in phrases:
            phrase = _Phrase.parse(raw)
            if phrase is None:
                continue
            for form in phrase.words[0] or ():  # parse drops a leading "*"
                index.setdefault(form, []).append(phrase)
        for candidates in index.values():
            candidates.sort(key=lambda p: len(p.words), reverse=True)
        return index

    def find(self, text: str) -> list[KeywordHit]:
        """Every keyword the text really says, in order: not negated, not inside an ignored phrase."""
        tokens = tokenize(text)
        ignored: set[int] = set()
        for start, token in enumerate(tokens):
            for phrase in self._ignore.get(token.word, ()):
                end = phrase.end_at(tokens, start)
                if end is not None:
                    ignored.update(range(start, end))
                    break
        hits: list[KeywordHit] = []
        start = 0
        while start < len(tokens):
            step = 1
            for phrase in self._keywords.get(tokens[start].word, ()):
                end = phrase.end_at(tokens, start)
                if end is None:
                    continue
                span = range(start, end)
                if not ignored.intersection(span) and not _negated(tokens, start, end):
                    found = " ".join(tokens[i].word for i in span)
                    hits.append(KeywordHit(phrase.text, found, start))
                step = end - start
                break
            start += step
        return hits


def _negated(tokens: Sequence[Token], index: int, end: int) -> bool:
    """Whether a negator governs the words from ``index`` to ``end`` (same clause, only light words between)."""
    clause = tokens[index].clause
    after = tokens[end].word if end < len(tokens) and tokens[end].clause == clause else ""
    if index > 0 and tokens[index - 1].word == "no" and after in _NOT_NEEDED:
        return True  # "no refund needed"
    position = index - 1
    gap = 0
    while position >= 0 and tokens[position].clause == clause and gap <= _WINDOW:
        word = tokens[position].word
        if word in _NEGATORS:
            before = tokens[position - 1].word if position > 0 and tokens[position - 1].clause == clause else ""
            return word != "not" or before not in _NOT_NEGATING_BEFORE
        if word == "no":
            # "no need to cancel", "no reason to…" negate; "no refund", "still no…" is the complaint
            before = tokens[position - 1].word if position > 0 and tokens[position - 1].clause == clause else ""
            return tokens[position + 1].word in _NO_FRAMES and before not in ("still", "yet")
        if word not in _LIGHT and not (word in _NO_FRAMES and position > 0 and tokens[position - 1].word == "no"):
            return False
        gap += 1
        position -= 1
    return False
