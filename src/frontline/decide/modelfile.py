"""Model files: one joblib dict written atomically (0600) and read back with errors that say what to do.

Loading unpickles, so only load files you (or your own ``frontline train``) wrote.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import joblib

from frontline import private
from frontline.errors import ModelFormatError, ModelNotFoundError


def save(payload: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``payload`` to ``path`` atomically: a temporary file in the same folder, synced, then renamed."""
    target = Path(path)
    private.folder(target.parent)  # mkstemp below makes the file 0600
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise private.unusable(target, error) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            joblib.dump(payload, handle, compress=3)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(error, OSError):  # a full disk, a quota: the file named, and what to do
            raise private.unusable(target, error) from None
        raise


def load(path: str | os.PathLike[str]) -> object:
    """What :func:`save` wrote (ModelNotFoundError when missing, ModelFormatError when unreadable)."""
    source = Path(path)
    if not source.exists():
        raise ModelNotFoundError(str(source))
    try:
        with warnings.catch_warnings():
            # A scikit-learn version change warns on unpickling; the caller's probe decides instead.
            warnings.simplefilter("ignore")
            return joblib.load(source)
    except (OSError, MemoryError) as exc:
        raise ModelFormatError(str(source), f"it cannot be read: {exc}") from None
    except Exception as exc:  # unpickling corrupt bytes raises nearly anything
        raise ModelFormatError(str(source), f"it is not a frontline model file ({type(exc).__name__})") from None
