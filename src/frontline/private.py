"""Files and folders frontline creates are readable by their owner only (0600 and 0700).

The workspace holds customers' tickets, conversations, decisions and the escalation issues: other
accounts on the machine have no business reading them, whatever the umask. Folders and files that
already exist keep their modes (a person chose them); SQLite gives its -wal and -shm companions the
mode of their database file.

A folder or file that cannot be made or written (a file where a folder should be, a broken link, no
permission, a full disk) raises :class:`~frontline.errors.WorkspaceError` naming it, never a bare
``OSError``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from frontline import faults
from frontline.errors import WorkspaceError

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def unusable(path: Path, error: OSError) -> WorkspaceError:
    """What stopped ``path`` from being created, opened or written, as the error a person can act on."""
    if faults.disk_full(error):
        return WorkspaceError(str(path), "disk_full")
    if isinstance(error, PermissionError):
        return WorkspaceError(str(path), "permission")
    for candidate in (path, *path.parents):
        if candidate.is_symlink() and not candidate.exists():
            return WorkspaceError(str(path), "broken_link", blocker=str(candidate))
        if candidate != path and candidate.exists() and not candidate.is_dir():
            return WorkspaceError(str(path), "not_a_folder", blocker=str(candidate))
    return WorkspaceError(str(path), (error.strerror or str(error)).lower())


def folder(path: Path) -> Path:
    """Create ``path`` and each missing parent owner-only; returns ``path`` (WorkspaceError when it cannot).

    A file (or a link to one) already at ``path`` is refused too: every later write inside would fail.
    """
    if path.exists() and not path.is_dir():
        raise WorkspaceError(str(path), "not_a_folder", blocker=str(path))
    try:
        return _folder(path)
    except OSError as error:
        raise unusable(path, error) from None


def _folder(path: Path) -> Path:
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
        try:
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
        except OSError as error:
            raise unusable(path, error) from None
    return path


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, owner-only (a temporary file in the same folder, renamed)."""
    folder(path.parent)
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise unusable(path, error) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise unusable(path, error) from None
        raise
