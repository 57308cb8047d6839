"""Credentials kept out of what people read: error messages, doctor lines and log records.

Tokens travel in headers, which frontline never prints; what can carry one into a message is a URL
(a proxy's ``user:password@``, an ``?api-key=`` in an endpoint) or a library echoing a request. So
every ``FrontlineError`` scrubs its text (:mod:`frontline.errors`), doctor scrubs its lines, and
:func:`install` makes every log record scrubbed as it is made — httpx, openai and slack_sdk
included. Scrubbed means: a URL's password and the values of credential-like query parameters
become ``***``, and token-shaped strings (``sk-…``, ``xoxb-…``, ``Bearer …``, JWTs; see
:mod:`frontline.decide.redact`) and ``Basic`` credentials become ``[secret]``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from frontline.decide.redact import redact_secrets

_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")
_USERINFO = re.compile(r"^(?P<scheme>[^:/]+://)(?P<user>[^/@:?#]*):(?P<password>[^/@?#]*)@")
_SENSITIVE_QUERY = re.compile(
    r"(?P<name>[?&](?:api[-_]?key|key|token|access[-_]?token|auth|secret|client[-_]?secret|password|passwd|pwd"
    r"|sig|signature|code)=)(?P<value>[^&#\s]*)", re.IGNORECASE)
_BASIC = re.compile(r"\b(Basic\s+)[A-Za-z0-9+/]{8,}={0,2}")
MASK = "***"


def url(value: str) -> str:
    """``value`` with the password of its user info and credential-like query values masked."""
    masked = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", value)
    return _SENSITIVE_QUERY.sub(lambda m: f"{m['name']}{MASK}", masked)


def text(value: str) -> str:
    """``value`` with every URL masked (:func:`url`) and token-shaped strings replaced."""
    if not value:
        return value
    masked = _URL.sub(lambda m: url(m.group(0)), value)
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
