"""Labelled CSV files for `frontline train` and `frontline eval`."""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from frontline.connectors.local.textfile import decode
from frontline.decide.text import readable_text
from frontline.errors import DataFileError

# Issue bodies with pasted logs exceed csv's 128 KiB default field limit.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _looks_like_data(names: Sequence[str]) -> bool:
    """A "header" holding a number or a sentence is the first data row of a file without one."""
    return any(name.strip().isdigit() or len(name.split()) >= 4 for name in names)


@dataclass(frozen=True)
class LabelledData:
    """Texts with their labels, and the rows left out (line number, reason)."""

    texts: Sequence[str]
    labels: Sequence[str]
    skipped: Sequence[tuple[int, str]] = field(default_factory=tuple)
    encoding: str = "utf-8"


def load_labelled_csv(path: Path, text_columns: Sequence[str], label_column: str, *,
                      header: bool = True) -> LabelledData:
    """Read ``path``; each text is its text columns joined by a newline (e.g. title and body).

    Rows with no text or no label are skipped and reported by line; a missing column or an
    unreadable file raises DataFileError naming the columns that exist. With ``header=False`` the
    file has no header row and columns are named by number, counting from 1 (``"2"``).
    """
    if not text_columns:
        raise DataFileError(str(path), "no --text-column given; name at least one text column")
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataFileError(str(path), "the file does not exist") from None
    except OSError as exc:
        raise DataFileError(str(path), f"it cannot be read ({exc.strerror})") from None
    content, encoding = decode(raw)
    if header:
        reader = csv.DictReader(io.StringIO(content, newline=""))
    else:
        width = max((len(row) for row in csv.reader(io.StringIO(content, newline=""))), default=0)
        reader = csv.DictReader(io.StringIO(content, newline=""), fieldnames=[str(i) for i in range(1, width + 1)])
    names = list(reader.fieldnames or [])
    if not names:
        expected = "a CSV with a header row" if header else "CSV rows"
        raise DataFileError(str(path), f"it is empty; {expected} is expected")
    wanted = [*text_columns, label_column]
    missing = [column for column in wanted if column not in names]
    if missing:
        if header:
            hint = (" Its first row looks like data: if the file has no header row, pass --no-header and number "
                    "the columns from 1." if _looks_like_data(names) else "")
            shown = ", ".join(names[:20])
        else:
            hint = " Without a header row, columns are numbered from 1."
            shown = f"1 to {len(names)}"
        raise DataFileError(
            str(path),
            f"it has no column {', '.join(repr(m) for m in missing)} (columns: {shown}).{hint}",
        )
    texts: list[str] = []
    labels: list[str] = []
    skipped: list[tuple[int, str]] = []
    try:
        for row in reader:
            line = reader.line_num
            parts = [readable_text(row.get(column) or "") for column in text_columns]
            text = "\n".join(part for part in parts if part)
            label = (row.get(label_column) or "").strip()
            if not text:
                skipped.append((line, "no text"))
            elif not label:
                skipped.append((line, "no label"))
            else:
                texts.append(text)
                labels.append(label)
    except csv.Error as exc:
        raise DataFileError(str(path), f"line {reader.line_num} is not valid CSV ({exc})") from None
    return LabelledData(texts=texts, labels=labels, skipped=tuple(skipped), encoding=encoding)


def fingerprint(path: Path) -> str:
    """The SHA-256 of a data file's bytes, recorded in a model so a copy of its training data is recognised."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_training_data(data: Path, source: str, digest: str = "") -> bool:
    """True when ``data`` is the file a model was trained on (its ``source`` path and ``digest``).

    The same bytes count wherever they are (a renamed copy); a model saved before digests were
    recorded has only its path to go by.
    """
    try:
        if digest:
            return fingerprint(data) == digest
        return bool(source) and Path(source).resolve() == Path(data).resolve()
    except (OSError, ValueError):
        return False
