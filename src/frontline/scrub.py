"""Credentials kept out of what people read: error messages, doctor lines and log records.

Tokens travel in headers, which frontline never prints; what can carry one into a message is a URL
(a proxy's ``user:password@``, an ``?api-key=`` in an endpoint) or a library echoing a request. So
every ``FrontlineError`` scrubs its text (:mod:`frontline.errors`), doctor scrubs its lines, and
:func:`install` makes every log record scrubbed as it is made — httpx, openai and slack_sdk
included. Scrubbed means: the exact value of every configured secret becomes ``***``, whatever its
shape; a URL's password and the values of credential-like query parameters become ``***``; and
token-shaped strings (``sk-…``, ``xoxb-…``, ``Bearer …``, JWTs; see :mod:`frontline.decide.redact`)
and ``Basic`` credentials become ``[secret]``.

Exact values matter because a server may quote a token back in an error body ("token abc123 is
invalid"), and a short or oddly shaped token matches no pattern. The configuration remembers every
secret it reads (:func:`remember`): the credentials in the environment or ``.env``, the webhook signing
secrets, the API key, a database URL's password, and tokens a credentials provider hands out. A value
shorter than :data:`MIN_SECRET_LENGTH` characters is not masked: it would garble ordinary words and
numbers wherever they appear, and no real credential is that short.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

from frontline.decide.redact import redact_secrets

_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")
_USERINFO = re.compile(r"^(?P<scheme>[^:/]+://)(?P<user>[^/@:?#]*):(?P<password>[^/@?#]*)@")
_SENSITIVE_QUERY = re.compile(
    r"(?P<name>[?&](?:api[-_]?key|key|token|access[-_]?token|auth|secret|client[-_]?secret|password|passwd|pwd"
    r"|sig|signature|code)=)(?P<value>[^&#\s]*)", re.IGNORECASE)
_BASIC = re.compile(r"\b(Basic\s+)[A-Za-z0-9+/]{8,}={0,2}")
MASK = "***"
MIN_SECRET_LENGTH = 6

_known: set[str] = set()
_known_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()


def remember(value: str | None) -> None:
    """Mask this exact value (and its URL-encoded forms) wherever text is scrubbed from now on."""
    global _known_pattern
    value = (value or "").strip()
    if len(value) < MIN_SECRET_LENGTH:
        return
    forms = {value, quote(value, safe=""), quote_plus(value)} - _known
    if not forms:
        return
    with _lock:
        _known.update(forms)
        # Longest first, so a secret that contains another is masked whole.
        _known_pattern = re.compile("|".join(re.escape(form) for form in sorted(_known, key=len, reverse=True)))


def forget_all() -> None:
    """Stop masking every remembered value (a test starting afresh; a process never needs it)."""
    global _known_pattern
    with _lock:
        _known.clear()
        _known_pattern = None


def known(value: str) -> str:
    """``value`` with every remembered secret replaced by ``***``."""
    pattern = _known_pattern
    return pattern.sub(MASK, value) if pattern is not None and value else value


def url(value: str) -> str:
    """``value`` with remembered secrets, the password of its user info and credential-like query values masked."""
    masked = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", value)
    return known(_SENSITIVE_QUERY.sub(lambda m: f"{m['name']}{MASK}", masked))


def text(value: str) -> str:
    """``value`` with remembered secrets and every URL masked (:func:`url`), and token-shaped strings replaced."""
    if not value:
        return value
    masked = known(value)
    masked = _URL.sub(lambda m: url(m.group(0)), masked)
    masked = _BASIC.sub(lambda m: f"{m.group(1)}[secret]", masked)
    return redact_secrets(masked)


_installed = False


def install() -> None:
    """Scrub every log record from now on, whoever logs it (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def scrubbed(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug: leave it for logging to report
            return record
        clean = text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = text(formatter.formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(scrubbed)


class Stream:
    """A text stream masking remembered secrets in what is written, then passing it to ``sys.stdout`` or ``sys.stderr``.

    The stream is looked up at each write, so a console built on it follows a redirected or captured
    ``sys.stdout`` the way one built on ``sys.stdout`` itself would.
    """

    def __init__(self, name: str = "stdout") -> None:
        self._name = name

    @property
    def target(self) -> TextIO:
        """The stream written to now."""
        stream: TextIO = getattr(sys, self._name)
        return stream

    def write(self, text: str) -> int:
        """Write ``text`` scrubbed."""
        self.target.write(known(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, flush: the target's own
        return getattr(self.target, name)
