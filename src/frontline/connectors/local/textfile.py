"""A data file's text, decoded line by line: UTF-8 first, a legacy encoding only for the lines that need it.

A file assembled from several exports can hold one Windows-1252 row among UTF-8 ones; decoding the
whole file with one fallback encoding would turn every UTF-8 row into mojibake (``ZÃ¼rich``). The raw
bytes are split at line breaks before decoding, which is safe: 0x0A and 0x0D never occur inside a
UTF-8 multibyte sequence, nor do they mean anything else in Windows-1252 or Latin-1.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from frontline.errors import DataFileError

# Codec, and the name a person knows it by. Latin-1 decodes any byte, so it always ends the search;
# Windows-1252 comes first because it is what spreadsheets on Windows write.
LEGACY = (("cp1252", "Windows-1252"), ("latin-1", "Latin-1"))
# The breaks an editor counts (CR LF, LF, CR), kept in the split so the text is rebuilt unchanged.
_BREAKS = re.compile(rb"(\r\n|\r|\n)")


@dataclass(frozen=True)
class DecodedText:
    """A file's text and the lines that were not UTF-8: (line number, encoding name) for each."""

    text: str
    legacy: tuple[tuple[int, str], ...] = ()

    @property
    def encoding(self) -> str:
        """``utf-8`` when every line is, otherwise the codecs the other lines needed, most used first."""
        if not self.legacy:
            return "utf-8"
        codec = {name: codec for codec, name in LEGACY}
        return " ".join(codec[name] for name, _ in Counter(name for _, name in self.legacy).most_common())


def _line(raw: bytes) -> tuple[str, str | None]:
    """One line's text, and the legacy encoding's name when it is not UTF-8."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    for codec, name in LEGACY:
        try:
            return raw.decode(codec), name
        except UnicodeDecodeError:
            continue
    raise AssertionError("Latin-1 decodes any byte")  # pragma: no cover


def decode_lines(raw: bytes) -> DecodedText:
    """Decode file bytes line by line: UTF-8 (a BOM at the start is dropped), else Windows-1252, else Latin-1."""
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return DecodedText(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    pieces = _BREAKS.split(raw)  # line, break, line, break, …, line
    texts: list[str] = []
    legacy: list[tuple[int, str]] = []
    for index, piece in enumerate(pieces):
        if index % 2:
            texts.append(piece.decode("ascii"))
            continue
        text, name = _line(piece)
        texts.append(text)
        if name is not None:
            legacy.append((index // 2 + 1, name))
    return DecodedText("".join(texts), tuple(legacy))


def decode(raw: bytes) -> tuple[str, str]:
    """File bytes as text, line by line (see :func:`decode_lines`), and a summary of the encodings used."""
    decoded = decode_lines(raw)
    return decoded.text, decoded.encoding


def read_text(path: Path) -> DecodedText:
    """A data file's text, decoded line by line; DataFileError when it cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(str(path), "the file does not exist") from None
    except OSError as exc:
        raise DataFileError(str(path), f"it cannot be read ({exc.strerror})") from None
    return decode_lines(raw)
