"""What may reach a terminal from data: text shown as written, never as terminal control.

A ticket's id or subject, a vendor's error, a file name or an article title can hold control
characters: an ANSI escape (``\\x1b[2J`` clears the screen, ``\\x1b]8;;`` makes a link), a carriage
return that overwrites the start of a line, a bell, C1 controls some terminals obey, bidirectional
overrides that show text in another order than it is stored, and lone surrogates that cannot even be
encoded (printing one stops the program). Each is shown as its escape (``\\x1b``, ``\\u202e``), so a
person sees what the data holds and the terminal only ever receives printable text.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL; the Arabic letter mark and bidirectional marks, embeddings, overrides
# and isolates; the Unicode line and paragraph separators; surrogates (only ever lone in a str).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_UNPRINTABLE_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
                                    "\ud800-\udfff]")


_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _shown(match: re.Match[str]) -> str:
    character = match.group()
    if character in _SHORT:
        return _SHORT[character]
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(value: object, *, lines: bool = False) -> str:
    """``value`` as text with every control character shown as its escape (``\\x1b``, ``\\r``, ``\\u202e``).

    With ``lines``, line breaks and tabs are kept (for a message of several lines); otherwise they are
    shown too, so a value never breaks the one line it is printed on.
    """
    pattern = _UNPRINTABLE_BUT_LINES if lines else _UNPRINTABLE
    return pattern.sub(_shown, "" if value is None else str(value))
