"""Files and folders frontline creates are readable by their owner only (0600 and 0700).

The workspace holds customers' tickets, conversations, decisions and the escalation issues: other
accounts on the machine have no business reading them, whatever the umask. Folders and files that
already exist keep their modes (a person chose them); SQLite gives its -wal and -shm companions the
mode of their database file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def folder(path: Path) -> Path:
    """Create ``path`` and each missing parent owner-only; returns ``path``."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for created in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it a moment ago
            created.mkdir(mode=FOLDER_MODE)
            os.chmod(created, FOLDER_MODE)  # exactly 0700, whatever the umask
    return path


def touch(path: Path) -> Path:
    """Create the empty file ``path`` owner-only (and its folder) unless it exists; returns ``path``."""
    folder(path.parent)
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    return path


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, owner-only (a temporary file in the same folder, renamed)."""
    folder(path.parent)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
